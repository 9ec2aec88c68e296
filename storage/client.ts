// One code path for embedded chDB and a ClickHouse server: both are @clickhouse/client
// instances; only the connection differs.
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';

export type ConnectionOptions =
  | { kind: 'chdb'; path: string }
  | { kind: 'server'; url: string; username?: string; password?: string; database?: string };

export function openClient(opts: ConnectionOptions): ClickHouseClient {
  if (opts.kind === 'chdb') {
    // Each connection is its own chDB session on the same data directory; sessions run
    // queries in parallel, queries within one session run one at a time.
    return createClient({ connection: createChdbConnection({ path: opts.path }) } as Parameters<typeof createClient>[0]);
  }
  return createClient({
    url: opts.url, username: opts.username, password: opts.password, database: opts.database,
    clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
  });
}
