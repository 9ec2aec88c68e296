// Starts the storage server, then migrates the schema through it (over its own HTTP interface,
// as any client would), so relays that start together find it ready instead of racing to
// migrate it.
import { createLogger } from '../common/logger.js';
import { runUntilSignal } from '../common/lifecycle.js';
import { StorageServer, DEFAULT_STORAGE_SERVER_OPTIONS, type StorageServerOptions } from './http-server.js';
import { openClient } from './client.js';
import { migrate } from './migrations.js';
import { createSharedTables } from './shared.js';

export interface StorageServerCommandOptions extends StorageServerOptions {
  retentionDays: number;
}

export async function startStorageServer(opts: StorageServerCommandOptions): Promise<StorageServer> {
  const log = createLogger('storage-server');
  const server = await StorageServer.start({ ...DEFAULT_STORAGE_SERVER_OPTIONS, ...opts }, log);
  const client = openClient({ kind: 'server', url: `http://127.0.0.1:${server.port}` });
  try {
    const applied = await migrate(client, { retentionDays: opts.retentionDays });
    await createSharedTables(client);
    log.info({ applied }, 'schema ready');
  } catch (err) {
    await server.stop();
    throw err;
  } finally {
    await client.close();
  }
  return server;
}

export async function runStorageServer(opts: StorageServerCommandOptions): Promise<void> {
  const server = await startStorageServer(opts);
  runUntilSignal(createLogger('storage-server'), async () => {
    await server.stop();
    createLogger('storage-server').info(server.stats, 'storage server stopped');
  });
}
