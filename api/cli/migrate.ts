// `flowscope migrate`: applies pending storage migrations and prints each one applied; running
// it again applies nothing (every migration is recorded in schema_migrations).
import { openClient, type ConnectionOptions } from '../../storage/index.js';
import { MIGRATIONS, migrate } from '../../storage/migrations.js';
import { describeStore } from './store-target.js';

export async function runMigrate(connection: ConnectionOptions, retentionDays: number, out: (s: string) => void): Promise<number[]> {
  const client = openClient(connection);
  try {
    const applied = await migrate(client, { retentionDays });
    const where = describeStore(connection);
    for (const v of applied) out(`applied migration ${v}: ${MIGRATIONS.find((m) => m.version === v)?.name ?? ''}\n`);
    const latest = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
    out(applied.length === 0 ? `${where}: schema up to date (version ${latest}), nothing applied\n` : `${where}: schema at version ${latest}\n`);
    return applied;
  } finally {
    await client.close();
  }
}
