// One code path for embedded chDB and a ClickHouse server: both are @clickhouse/client
// instances; only the connection differs.
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StartError } from '../common/start-error.js';

export type ConnectionOptions = { kind: 'chdb'; path: string } | { kind: 'server'; url: string; username?: string; password?: string; database?: string };

/**
 * A chDB data directory belongs to one process; ClickHouse records it in `status` while it runs
 * (and removes it on a clean exit). Checked before chDB opens the directory, so the user reads
 * which process holds it instead of the engine's lock error.
 */
export function assertDataDirFree(dir: string): void {
  let text: string;
  try {
    text = readFileSync(path.join(dir, 'status'), 'utf8');
  } catch {
    return;
  }
  const pid = Number(/^PID:\s*(\d+)/m.exec(text)?.[1] ?? 0);
  if (pid === 0 || pid === process.pid) return;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return;
  } // a crashed owner: no lock
  throw new StartError(
    `the data directory ${dir} is in use by process ${pid} (a relay, an ingester or \`flowscope up\`): stop it, or use another --data-dir / --store`,
  );
}

export function openClient(opts: ConnectionOptions): ClickHouseClient {
  if (opts.kind === 'chdb') {
    assertDataDirFree(opts.path);
    // Each connection is its own chDB session on the same data directory; sessions run
    // queries in parallel, queries within one session run one at a time.
    return createClient({ connection: createChdbConnection({ path: opts.path }) } as Parameters<typeof createClient>[0]);
  }
  return createClient({
    url: opts.url,
    username: opts.username,
    password: opts.password,
    database: opts.database,
    clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
  });
}
