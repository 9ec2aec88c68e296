// Option parsers and conventions shared by every `flowscope` command, services and clients
// alike: bad values are UsageErrors (exit 2 with the command's usage), never exceptions.
import { Command, CommanderError, Option } from 'commander';
import { UsageError } from '../query/usage-error.js';
import { DEFAULT_SERVER } from './observe-flags.js';
import { parseListenAddress } from '../../common/metrics/server.js';

/** An integer option in [min, max]. */
export function int(name: string, min = 0, max = 2 ** 31): (v: string) => number {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new UsageError(`invalid value "${v}" for --${name}: expected an integer`);
    const n = Number(v);
    if (n < min || n > max) throw new UsageError(`invalid value "${v}" for --${name}: must be between ${min} and ${max}`);
    return n;
  };
}

/** An integer option in [min, max] that must be a power of two. */
export function powerOfTwo(name: string, min: number, max: number): (v: string) => number {
  const parse = int(name, min, max);
  return (v: string) => {
    const n = parse(v);
    if ((n & (n - 1)) !== 0) throw new UsageError(`invalid value "${v}" for --${name}: must be a power of two`);
    return n;
  };
}

/** Runs `parse`, turning what it throws into a UsageError. */
export function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** commander errors become UsageError; help and version exit 0 as usual, and a command group
 * run without its subcommand (`flowscope top`) prints its usage and exits 2. */
export function strict(cmd: Command): Command {
  return cmd
    .exitOverride((err: CommanderError) => {
      if (err.code === 'commander.help' && err.exitCode !== 0) throw new CommanderError(2, err.code, err.message);
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') throw err;
      throw new UsageError(err.message.replace(/^error: /, ''));
    })
    .configureOutput({ outputError: () => {} })
    .allowExcessArguments(false);
}

/** `--metrics-addr`: a [host]:port, or "none" to run without a metrics listener. */
export function metricsAddrOption(def: string): Option {
  return new Option('--metrics-addr <address>', 'Prometheus /metrics listen address ("none" to disable)')
    .env('FLOWSCOPE_METRICS_ADDR')
    .default(def)
    .argParser((v: string) => {
      if (v !== 'none') usage(() => parseListenAddress(v));
      return v;
    });
}

/** `--metrics-addr` as the services take it: null for "none". */
export function metricsAddr(v: string): string | null {
  return v === 'none' ? null : v;
}

/** `--health-listen`: a plaintext grpc.health.v1 listener for probes (hubble-relay's --health-listen-address). */
export function healthListenOption(): Option {
  return new Option(
    '--health-listen <address>',
    'Plaintext gRPC health (grpc.health.v1 only) listen address for probes, e.g. ":4222"; the main port may be TLS, which gRPC probes do not speak ("none": off)',
  )
    .env('FLOWSCOPE_HEALTH_LISTEN')
    .default('none')
    .argParser((v: string) => {
      if (v === 'none') return v;
      try {
        parseListenAddress(v);
      } catch {
        throw new UsageError(`invalid value "${v}" for --health-listen: expected [host]:port or "none"`);
      }
      return v;
    });
}

/** `--server`: the Observer API a client command talks to. */
export function serverOption(): Option {
  return new Option('--server <address>', 'Address of the relay or collector Observer API').env('HUBBLE_SERVER').default(DEFAULT_SERVER);
}

/** `--store`: where a command that opens storage itself finds it. */
export function storeOption(): Option {
  return new Option('--store <path|url>', 'chDB data directory or ClickHouse server URL http[s]://[user:password@]host:port[/database]')
    .env('FLOWSCOPE_STORE')
    .default('.flowscope/chdb');
}

/** `--retention-days`. */
export function retentionOption(description = 'Flows older than this are deleted (TTL)'): Option {
  return new Option('--retention-days <n>', description)
    .env('FLOWSCOPE_RETENTION_DAYS')
    .default(7)
    .argParser(int('retention-days', 1, 3650));
}

/** `--clickhouse-cluster`. */
export function clickhouseClusterOption(): Option {
  return new Option('--clickhouse-cluster <name>', 'ClickHouse cluster whose schema was applied from `flowscope schema --cluster` (no migrations run)').env(
    'FLOWSCOPE_CLICKHOUSE_CLUSTER',
  );
}
