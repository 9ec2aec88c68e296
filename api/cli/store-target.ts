// `--store PATH|URL`: an embedded chDB data directory, or a ClickHouse server URL
// (http[s]://[user:password@]host:port[/database]). Credentials may also come from
// FLOWSCOPE_CLICKHOUSE_USER / _PASSWORD, as for the relay.
import type { ConnectionOptions } from '../../storage/index.js';
import { UsageError } from '../query/usage-error.js';

export function parseStoreTarget(value: string, env: Record<string, string | undefined> = process.env): ConnectionOptions {
  if (value === '') throw new UsageError('--store must not be empty');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return { kind: 'chdb', path: value };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`invalid --store URL "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`invalid --store URL "${value}": expected http:// or https://, or a chDB directory`);
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || env.FLOWSCOPE_CLICKHOUSE_DATABASE;
  const username = decodeURIComponent(url.username) || env.FLOWSCOPE_CLICKHOUSE_USER;
  const password = decodeURIComponent(url.password) || env.FLOWSCOPE_CLICKHOUSE_PASSWORD;
  url.username = '';
  url.password = '';
  url.pathname = '/';
  return {
    kind: 'server',
    url: url.toString().replace(/\/$/, ''),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(database ? { database } : {}),
  };
}

/** Where a connection points, without credentials (for messages). */
export function describeStore(c: ConnectionOptions): string {
  return c.kind === 'chdb' ? `chdb:${c.path}` : `${c.url}${c.database ? `/${c.database}` : ''}`;
}
