// TLS flags of every command, defined once: the listener flags of the services (relay,
// collector, api, /metrics) and the client flags (hubble's names: --tls, --tls-ca-cert-files,
// --tls-client-cert-file, --tls-client-key-file, --tls-server-name, --tls-allow-insecure).
// Combinations that cannot work are UsageErrors (exit 2); files are read and checked where the
// credentials are built (common/tls.ts: TlsConfigError, exit 2, one line naming the flag).
import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { UsageError } from '../query/usage-error.js';
import { ObserverApiClient } from '../client.js';
import { createLogger } from '../../common/logger.js';
import {
  clientTlsFiles,
  grpcChannelCredentials,
  grpcChannelOptions,
  type ClientTlsSpec,
  type FileRef,
  type ServerTlsSpec,
  type TlsFilesOptions,
} from '../../common/tls.js';

/** "--tls-server-cert-file" → "tlsServerCertFile", as commander names option values. */
function attr(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

const csv = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), ...v.split(',').filter((s) => s !== '')];

type Flags = Record<string, unknown>;

/** Adds option groups to a command (commander has no addOptions). */
export function addOptions(cmd: Command, ...groups: Option[][]): Command {
  for (const g of groups) for (const o of g) cmd.addOption(o);
  return cmd;
}

/** The flag names of one TLS listener. */
export interface ServerTlsFlagNames {
  cert: string;
  key: string;
  clientCa: string;
}

export const RELAY_SERVER_TLS: ServerTlsFlagNames = {
  cert: 'tls-relay-server-cert-file',
  key: 'tls-relay-server-key-file',
  clientCa: 'tls-relay-client-ca-files',
};
export const SERVER_TLS: ServerTlsFlagNames = { cert: 'tls-server-cert-file', key: 'tls-server-key-file', clientCa: 'tls-client-ca-files' };
export const METRICS_TLS: ServerTlsFlagNames = { cert: 'metrics-tls-cert-file', key: 'metrics-tls-key-file', clientCa: 'metrics-tls-client-ca-files' };

/** Options of a listener: TLS when the certificate and key are given, mTLS with client CAs. */
export function serverTlsOptions(names: ServerTlsFlagNames, what: string, clientCaEffect: string): Option[] {
  const env = (flag: string) => `FLOWSCOPE_${flag.replace(/-/g, '_').toUpperCase()}`;
  return [
    new Option(`--${names.cert} <file>`, `${what}: TLS certificate (PEM, chain allowed); with --${names.key} turns TLS on`).env(env(names.cert)),
    new Option(`--${names.key} <file>`, `${what}: TLS private key (PEM)`).env(env(names.key)),
    new Option(`--${names.clientCa} <files>`, `${what}: CA files (comma-separated) for client certificates (mTLS): ${clientCaEffect}`)
      .env(env(names.clientCa))
      .argParser(csv),
  ];
}

/** The listener's TLS from its flags; null for plaintext. */
export function serverTlsSpec(o: Flags, names: ServerTlsFlagNames): ServerTlsSpec | null {
  const cert = o[attr(names.cert)] as string | undefined;
  const key = o[attr(names.key)] as string | undefined;
  const ca = (o[attr(names.clientCa)] as string[] | undefined) ?? [];
  if (cert === undefined && key === undefined) {
    if (ca.length > 0) throw new UsageError(`--${names.clientCa} needs --${names.cert} and --${names.key} (client certificates need a TLS listener)`);
    return null;
  }
  if (cert === undefined) throw new UsageError(`--${names.key} needs --${names.cert}`);
  if (key === undefined) throw new UsageError(`--${names.cert} needs --${names.key}`);
  const ref = (path: string, flag: string): FileRef => ({ path, flag: `--${flag}` });
  return { cert: ref(cert, names.cert), key: ref(key, names.key), clientCa: ca.map((p) => ref(p, names.clientCa)) };
}

/** The flag names of a service's TLS client (its own certificate, the CAs it trusts). */
export interface ClientTlsFlagNames {
  ca: string;
  cert: string;
  key: string;
  serverName?: string;
  /** Help of the server name flag (default: a name checked instead of the host dialled). */
  serverNameHelp?: string;
  /** The server name may hold one `*` (the relay's, standing for each collector's node). */
  serverNamePattern?: boolean;
}

/** The collector's client flags to the relay. */
export const COLLECTOR_RELAY_TLS: ClientTlsFlagNames = {
  ca: 'tls-relay-server-ca-files',
  cert: 'tls-relay-client-cert-file',
  key: 'tls-relay-client-key-file',
  serverName: 'tls-relay-server-name',
};
/** The relay's client flags to the collectors (hubble-relay's names for its hubble peers). */
export const RELAY_PEERS_TLS: ClientTlsFlagNames = {
  ca: 'tls-hubble-server-ca-files',
  cert: 'tls-hubble-client-cert-file',
  key: 'tls-hubble-client-key-file',
  serverName: 'tls-hubble-server-name',
  serverNamePattern: true,
  serverNameHelp:
    'name each certificate must carry, "*" standing for the node name with dots as \'-\' (e.g. "*.prod.collector.flowscope": one wildcard certificate for every node); default: the node name',
};

export function serviceClientTlsOptions(names: ClientTlsFlagNames, what: string): Option[] {
  const env = (flag: string) => `FLOWSCOPE_${flag.replace(/-/g, '_').toUpperCase()}`;
  const opts = [
    new Option(`--${names.ca} <files>`, `${what}: CA files (comma-separated) its certificate must chain to; this or the flags below turn TLS on`)
      .env(env(names.ca))
      .argParser(csv),
    new Option(`--${names.cert} <file>`, `${what}: client certificate (PEM) presented for mTLS`).env(env(names.cert)),
    new Option(`--${names.key} <file>`, `${what}: client private key (PEM)`).env(env(names.key)),
  ];
  if (names.serverName)
    opts.push(
      new Option(`--${names.serverName} <name>`, `${what}: ${names.serverNameHelp ?? 'name its certificate must carry (default: the host dialled)'}`)
        .env(env(names.serverName))
        .argParser((v: string) => {
          // One "*" at most where allowed (it stands for one label of a wildcard name); never empty.
          const stars = v.split('*').length - 1;
          if (v === '' || stars > (names.serverNamePattern ? 1 : 0))
            throw new UsageError(`invalid value "${v}" for --${names.serverName}: a host name${names.serverNamePattern ? ', at most one "*"' : ''}`);
          return v;
        }),
    );
  return opts;
}

/** A service's client TLS from its flags; null for plaintext unless `forceTls` (a tls:// address). */
export function serviceClientTlsSpec(o: Flags, names: ClientTlsFlagNames, forceTls = false): ClientTlsSpec | null {
  const ca = (o[attr(names.ca)] as string[] | undefined) ?? [];
  const cert = o[attr(names.cert)] as string | undefined;
  const key = o[attr(names.key)] as string | undefined;
  const serverName = names.serverName ? (o[attr(names.serverName)] as string | undefined) : undefined;
  if ((cert === undefined) !== (key === undefined))
    throw new UsageError(cert === undefined ? `--${names.key} needs --${names.cert}` : `--${names.cert} needs --${names.key}`);
  if (!forceTls && ca.length === 0 && cert === undefined && serverName === undefined) return null;
  const ref = (path: string, flag: string): FileRef => ({ path, flag: `--${flag}` });
  return {
    ca: ca.map((p) => ref(p, names.ca)),
    ...(cert !== undefined && key !== undefined ? { cert: ref(cert, names.cert), key: ref(key, names.key) } : {}),
    ...(serverName !== undefined ? { serverName } : {}),
  };
}

/** Hubble CLI's client flags, as `observe` and every other client command takes them. */
export interface ClientTlsFlags {
  tls?: boolean;
  tlsAllowInsecure?: boolean;
  tlsServerName?: string;
  tlsCaCertFiles?: string[];
  tlsClientCertFile?: string;
  tlsClientKeyFile?: string;
  /** File holding the bearer token for the relay (user commands; see clientToken). */
  tokenFile?: string;
}

/** The client flags of user commands: hubble's TLS flags and --token-file. */
export function clientConnectionOptions(): Option[] {
  return [
    ...clientTlsOptions(),
    new Option('--token-file <path>', 'File holding the bearer token the relay requires (`flowscope tokens create`; else FLOWSCOPE_TOKEN)'),
  ];
}

/** The bearer token to send: the first line of --token-file, else FLOWSCOPE_TOKEN, else none.
 * The token is never a command-line value (it would show in `ps` and shell history). */
export function clientToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (tokenFile === undefined) {
    const t = env.FLOWSCOPE_TOKEN?.trim();
    return t ? t : undefined;
  }
  let text: string;
  try {
    text = fs.readFileSync(tokenFile, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`--token-file ${tokenFile}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : 'cannot be read'}`);
  }
  const token = text.split('\n')[0].trim();
  if (!/^[\x21-\x7e]{1,512}$/.test(token)) throw new UsageError(`--token-file ${tokenFile}: the first line is not a token`);
  return token;
}

export function clientTlsOptions(): Option[] {
  return [
    new Option('--tls', 'Use TLS to connect to the server (also: a tls:// server address, or any --tls-* file flag)'),
    new Option('--tls-allow-insecure', 'Skip server certificate verification (testing only)'),
    new Option('--tls-server-name <name>', "Name the server's certificate must carry (default: the server's host)"),
    new Option(
      '--tls-ca-cert-files <paths>',
      "CA certificate files (comma-separated) the server's certificate must chain to (default: the system's)",
    ).argParser(csv),
    new Option('--tls-client-cert-file <path>', 'Client certificate file (mTLS)'),
    new Option('--tls-client-key-file <path>', 'Client key file (mTLS)'),
  ];
}

/**
 * The client TLS the flags ask for, null for plaintext. TLS is on with --tls, a tls:// server, or
 * any CA or certificate flag: giving TLS material never falls back to plaintext.
 */
export function clientTlsSpec(server: string, f: ClientTlsFlags): ClientTlsSpec | null {
  if ((f.tlsClientCertFile === undefined) !== (f.tlsClientKeyFile === undefined))
    throw new UsageError(
      f.tlsClientCertFile === undefined ? '--tls-client-key-file needs --tls-client-cert-file' : '--tls-client-cert-file needs --tls-client-key-file',
    );
  const ca = f.tlsCaCertFiles ?? [];
  const on = f.tls || server.startsWith('tls://') || ca.length > 0 || f.tlsClientCertFile !== undefined || f.tlsServerName !== undefined || f.tlsAllowInsecure;
  if (!on) return null;
  return {
    ca: ca.map((p) => ({ path: p, flag: '--tls-ca-cert-files' })),
    ...(f.tlsClientCertFile !== undefined && f.tlsClientKeyFile !== undefined
      ? { cert: { path: f.tlsClientCertFile, flag: '--tls-client-cert-file' }, key: { path: f.tlsClientKeyFile, flag: '--tls-client-key-file' } }
      : {}),
    ...(f.tlsServerName !== undefined ? { serverName: f.tlsServerName } : {}),
    ...(f.tlsAllowInsecure ? { allowInsecure: true } : {}),
  };
}

/**
 * An Observer API client for `server` with the TLS the flags ask for (files checked now:
 * TlsConfigError). One-shot commands do not watch the files; the HTTP API does.
 */
export function observerClient(server: string, timeoutMs: number, f: ClientTlsFlags, watch: TlsFilesOptions = { reloadIntervalMs: 0 }): ObserverApiClient {
  const spec = clientTlsSpec(server, f);
  const token = clientToken(f.tokenFile);
  if (!spec) return new ObserverApiClient(server, timeoutMs, undefined, {}, token);
  const files = clientTlsFiles(spec, createLogger('client'), watch);
  const creds = grpcChannelCredentials(files, { serverName: spec.serverName, allowInsecure: spec.allowInsecure });
  const client = new ObserverApiClient(server, timeoutMs, creds, grpcChannelOptions(spec.allowInsecure ? undefined : spec.serverName), token);
  const close = client.close.bind(client);
  client.close = () => {
    close();
    files.close();
  };
  return client;
}
