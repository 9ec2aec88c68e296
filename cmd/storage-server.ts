// `flowscope storage-server`: owns a chDB data directory and serves it over ClickHouse's HTTP
// interface, so several relays share one store (storage/http-server.ts says what is served).
import { Command, Option } from 'commander';
import { int, strict, retentionOption } from '../api/cli/options.js';

export function storageServerCommand(): Command {
  return strict(new Command('storage-server'))
    .description("Serve a chDB data directory over ClickHouse's HTTP interface, for relays started with --clickhouse-url … --shared-store")
    .addOption(
      new Option('--listen <address>', 'HTTP listen address (no authentication: bind it to a trusted network)')
        .env('FLOWSCOPE_STORAGE_LISTEN')
        .default('127.0.0.1:8123'),
    )
    .addOption(new Option('--data-dir <path>', 'chDB data directory this process owns').env('FLOWSCOPE_DATA_DIR').default('.flowscope/chdb'))
    .addOption(
      new Option('--read-sessions <n>', 'chDB sessions for reads, which run in parallel (writes run one at a time on a session of their own)')
        .env('FLOWSCOPE_STORAGE_READ_SESSIONS')
        .default(3)
        .argParser(int('read-sessions', 1, 64)),
    )
    .addOption(
      new Option('--max-body-bytes <n>', 'Largest insert body accepted (HTTP 413 above)')
        .env('FLOWSCOPE_STORAGE_MAX_BODY_BYTES')
        .default(256 * 1024 * 1024)
        .argParser(int('max-body-bytes', 1024, 2 ** 40)),
    )
    .addOption(
      new Option('--max-queued <n>', 'Requests waiting for a session beyond this are refused (HTTP 503)')
        .env('FLOWSCOPE_STORAGE_MAX_QUEUED')
        .default(256)
        .argParser(int('max-queued', 1, 100_000)),
    )
    .addOption(retentionOption())
    .action(async (o: { listen: string; dataDir: string; readSessions: number; maxBodyBytes: number; maxQueued: number; retentionDays: number }) => {
      const { runStorageServer } = await import('../storage/server-main.js');
      await runStorageServer({
        listen: o.listen,
        dataDir: o.dataDir,
        readSessions: o.readSessions,
        maxBodyBytes: o.maxBodyBytes,
        maxQueued: o.maxQueued,
        retentionDays: o.retentionDays,
      });
    });
}
