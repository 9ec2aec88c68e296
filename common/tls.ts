// TLS for every flowscope listener and client, built in one place: certificate files are read
// and checked at start (a bad file is a one-line start error naming its flag, exit 2), then
// watched; a changed file is checked again and, when good, used for new connections without a
// restart (a half-written rotation keeps the previous material until both halves agree).
// gRPC servers get a ServerCredentials whose secure context follows the files; gRPC clients a
// certificate-provider ChannelCredentials; HTTPS servers (HTTP API, /metrics) setSecureContext.
import fs from 'node:fs';
import tls from 'node:tls';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from './logger.js';
import { StartError } from './start-error.js';

/** A file given on the command line, with the flag that named it (for error messages). */
export interface FileRef {
  path: string;
  flag: string;
}

/** A TLS listener: its certificate (chain) and key, and the CAs that sign client certificates. */
export interface ServerTlsSpec {
  cert: FileRef;
  key: FileRef;
  /** Client certificates are requested when non-empty (mTLS). */
  clientCa: FileRef[];
}

/** A TLS client: the CAs it trusts (none: the system's), its own certificate for mTLS. */
export interface ClientTlsSpec {
  ca: FileRef[];
  cert?: FileRef;
  key?: FileRef;
  /** Name the server's certificate must carry (default: the host dialled). */
  serverName?: string;
  /** Skip verification of the server's certificate (testing only). */
  allowInsecure?: boolean;
}

/** A TLS configuration that cannot work: the service does not start (exit 2). */
export class TlsConfigError extends StartError {
  constructor(message: string) {
    super(message, 2);
  }
}

export interface TlsMaterial {
  cert?: Buffer;
  key?: Buffer;
  /** Concatenated PEM of every CA file; undefined: none given. */
  ca?: Buffer;
  /** The leaf certificate's expiry (ms since epoch), 0 without a certificate. */
  notAfterMs: number;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readFile(ref: FileRef): Buffer {
  try {
    return fs.readFileSync(ref.path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new TlsConfigError(`cannot read ${ref.flag} ${ref.path}: ${why}`);
  }
}

function certificates(pem: Buffer, ref: FileRef): X509Certificate[] {
  const blocks = pem.toString('utf8').match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new TlsConfigError(`${ref.flag} ${ref.path}: no PEM certificate in the file`);
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new TlsConfigError(`${ref.flag} ${ref.path}: not a valid certificate (${(err as Error).message})`);
    }
  });
}

function checkValidity(c: X509Certificate, ref: FileRef, nowMs: number): void {
  const from = Date.parse(c.validFrom);
  const to = Date.parse(c.validTo);
  if (to < nowMs) throw new TlsConfigError(`${ref.flag} ${ref.path}: certificate "${c.subject.replace(/\n/g, ', ')}" expired on ${new Date(to).toISOString()}`);
  if (from > nowMs)
    throw new TlsConfigError(`${ref.flag} ${ref.path}: certificate "${c.subject.replace(/\n/g, ', ')}" is not valid before ${new Date(from).toISOString()}`);
}

/**
 * Reads and checks certificate, key and CA files: each readable and PEM, certificates within
 * their validity period, the key the certificate's. Throws TlsConfigError naming the flag.
 */
export function loadTlsMaterial(files: { cert?: FileRef; key?: FileRef; ca: FileRef[] }, nowMs = Date.now()): TlsMaterial {
  const out: TlsMaterial = { notAfterMs: 0 };
  if (files.cert) {
    const pem = readFile(files.cert);
    const chain = certificates(pem, files.cert);
    for (const c of chain) checkValidity(c, files.cert, nowMs);
    out.cert = pem;
    out.notAfterMs = Date.parse(chain[0].validTo);
    if (files.key) {
      const keyPem = readFile(files.key);
      let key;
      try {
        key = createPrivateKey(keyPem);
      } catch (err) {
        throw new TlsConfigError(`${files.key.flag} ${files.key.path}: not a valid private key (${(err as Error).message})`);
      }
      if (!chain[0].checkPrivateKey(key))
        throw new TlsConfigError(`${files.key.flag} ${files.key.path} is not the key of ${files.cert.flag} ${files.cert.path}`);
      out.key = keyPem;
    }
  }
  if (files.ca.length > 0) {
    const parts: Buffer[] = [];
    for (const ref of files.ca) {
      const pem = readFile(ref);
      for (const c of certificates(pem, ref)) checkValidity(c, ref, nowMs);
      parts.push(pem, Buffer.from('\n'));
    }
    out.ca = Buffer.concat(parts);
  }
  return out;
}

function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  const eq = (x?: Buffer, y?: Buffer) => (x === undefined ? y === undefined : y !== undefined && x.equals(y));
  return eq(a.cert, b.cert) && eq(a.key, b.key) && eq(a.ca, b.ca);
}

export interface TlsFilesOptions {
  /** How often the files are checked for changes (default 5 s); 0: never (one-shot clients). */
  reloadIntervalMs?: number;
  /** With no CA files, trust the system's CAs (clients); servers leave it off. */
  systemRoots?: boolean;
}

/**
 * Certificate files loaded at construction (throws TlsConfigError) and polled for changes. It is
 * also a grpc-js certificate provider, so client credentials built on it follow the files.
 */
export class TlsFiles implements grpc.experimental.CertificateProvider {
  material: TlsMaterial;
  readonly stats = { reloads: 0, reloadErrors: 0 };
  private readonly listeners = new Set<(m: TlsMaterial) => void>();
  private readonly caListeners = new Set<grpc.experimental.CaCertificateUpdateListener>();
  private readonly identityListeners = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  private signature: string;
  private lastError = '';
  private timer: NodeJS.Timeout | null = null;
  private readonly systemRoots: boolean;

  constructor(
    readonly files: { cert?: FileRef; key?: FileRef; ca: FileRef[] },
    private readonly log: Logger,
    opts: TlsFilesOptions = {},
  ) {
    this.systemRoots = opts.systemRoots ?? false;
    this.material = loadTlsMaterial(files);
    this.signature = this.stat();
    const interval = opts.reloadIntervalMs ?? 5000;
    if (interval > 0) {
      this.timer = setInterval(() => this.check(), interval);
      this.timer.unref();
    }
  }

  private refs(): FileRef[] {
    return [...(this.files.cert ? [this.files.cert] : []), ...(this.files.key ? [this.files.key] : []), ...this.files.ca];
  }

  // stat follows symlinks, so the atomic symlink swap of a Kubernetes secret volume shows too.
  private stat(): string {
    return this.refs()
      .map((r) => {
        try {
          const s = fs.statSync(r.path);
          return `${s.ino}:${s.size}:${s.mtimeMs}`;
        } catch {
          return 'missing';
        }
      })
      .join('|');
  }

  /** Reloads when a file changed; keeps the current material while the new files do not check. */
  check(): void {
    const sig = this.stat();
    if (sig === this.signature) return;
    let next: TlsMaterial;
    try {
      next = loadTlsMaterial(this.files);
    } catch (err) {
      // Retried at the next poll (a rotation may have written only one of the files yet).
      const msg = (err as Error).message;
      if (msg !== this.lastError) {
        this.stats.reloadErrors++;
        this.log.error({ err: msg }, 'TLS files changed but do not check; still using the previous certificate');
        this.lastError = msg;
      }
      return;
    }
    this.signature = sig;
    this.lastError = '';
    if (sameMaterial(next, this.material)) return;
    this.material = next;
    this.stats.reloads++;
    this.log.info(
      { files: this.refs().map((r) => r.path), notAfter: next.notAfterMs ? new Date(next.notAfterMs).toISOString() : undefined },
      'TLS certificates reloaded',
    );
    for (const l of this.listeners) l(next);
    for (const l of this.caListeners) l(this.caUpdate());
    for (const l of this.identityListeners) l(this.identityUpdate());
  }

  onUpdate(listener: (m: TlsMaterial) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private caUpdate(): grpc.experimental.CaCertificateUpdate | null {
    const ca = this.material.ca ?? (this.systemRoots ? Buffer.from(tls.rootCertificates.join('\n')) : undefined);
    return ca ? { caCertificate: ca } : null;
  }

  private identityUpdate(): grpc.experimental.IdentityCertificateUpdate | null {
    const { cert, key } = this.material;
    return cert && key ? { certificate: cert, privateKey: key } : null;
  }

  addCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(l);
    l(this.caUpdate());
  }
  removeCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(l);
  }
  addIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.add(l);
    l(this.identityUpdate());
  }
  removeIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(l);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.listeners.clear();
  }
}

/** Loads a listener's files (TlsConfigError when they do not check). */
export function serverTlsFiles(spec: ServerTlsSpec, log: Logger, opts: TlsFilesOptions = {}): TlsFiles {
  return new TlsFiles({ cert: spec.cert, key: spec.key, ca: spec.clientCa }, log, opts);
}

/** Loads a client's files (TlsConfigError when they do not check); no CA files: the system's. */
export function clientTlsFiles(spec: ClientTlsSpec, log: Logger, opts: TlsFilesOptions = {}): TlsFiles {
  return new TlsFiles({ cert: spec.cert, key: spec.key, ca: spec.ca }, log, { systemRoots: true, ...opts });
}

/**
 * gRPC server credentials that follow `files`. With client CAs, client certificates are
 * requested but not enforced by the handshake: a ClientCertGuard refuses calls without a valid
 * one, so a refusal reaches the client as a gRPC status and is counted, instead of a bare reset.
 */
class WatchedServerCredentials extends grpc.ServerCredentials {
  constructor(files: TlsFiles) {
    const m = files.material;
    super({ requestCert: m.ca !== undefined, rejectUnauthorized: false }, { cert: m.cert, key: m.key, ca: m.ca });
    files.onUpdate((next) => this.updateSecureContextOptions({ cert: next.cert, key: next.key, ca: next.ca }));
  }
  _equals(other: grpc.ServerCredentials): boolean {
    return this === other;
  }
}

export function grpcServerCredentials(files: TlsFiles | null, guard: ClientCertGuard | null = null): grpc.ServerCredentials {
  if (!files) return grpc.ServerCredentials.createInsecure();
  const creds = new WatchedServerCredentials(files);
  return guard ? grpc.experimental.createServerCredentialsWithInterceptors(creds, [guard.interceptor]) : creds;
}

/** gRPC channel credentials that follow `files` (new connections use the current certificates). */
export function grpcChannelCredentials(files: TlsFiles | null, opts: { serverName?: string; allowInsecure?: boolean } = {}): grpc.ChannelCredentials {
  if (!files) return grpc.credentials.createInsecure();
  const verify: grpc.VerifyOptions = {};
  if (opts.allowInsecure) {
    verify.rejectUnauthorized = false;
    verify.checkServerIdentity = () => undefined;
  } else if (opts.serverName) {
    const name = opts.serverName;
    verify.checkServerIdentity = (_host, cert) => tls.checkServerIdentity(name, cert);
  }
  const identity = files.material.cert && files.material.key ? files : null;
  return grpc.experimental.createCertificateProviderChannelCredentials(files, identity, verify);
}

/**
 * Channel options that go with TLS credentials: with a server name, the TLS SNI and the
 * certificate check use it instead of the host dialled (an IP host would otherwise be sent as
 * SNI, which TLS does not allow).
 */
export function grpcChannelOptions(serverName: string | undefined): grpc.ChannelOptions {
  return serverName ? { 'grpc.ssl_target_name_override': serverName } : {};
}

/** A client's TLS: credentials and the channel options that go with them. */
export interface GrpcClientTls {
  credentials: grpc.ChannelCredentials;
  options: grpc.ChannelOptions;
}

/** node:https options for a listener; client certificates are required when client CAs are given. */
export function httpsServerOptions(files: TlsFiles): tls.TlsOptions {
  const m = files.material;
  return { cert: m.cert, key: m.key, ca: m.ca, requestCert: m.ca !== undefined, rejectUnauthorized: m.ca !== undefined };
}

/** Keeps an HTTPS server's certificate in step with its files. */
export function followTlsFiles(server: tls.Server, files: TlsFiles): void {
  const off = files.onUpdate((m) => server.setSecureContext({ cert: m.cert, key: m.key, ca: m.ca }));
  server.once('close', off);
}

export type GuardedService = 'ingest' | 'observer';
export type RefusalReason = 'no_valid_certificate' | 'name_mismatch';

export interface ClientCertGuardOptions {
  /** Which calls need a client certificate from the configured CAs. */
  require: Record<GuardedService, boolean>;
  /**
   * Ingest: a certificate is accepted for a collector when its CN or a DNS name equals the node
   * name it announces, or matches this glob (`*` any run of characters).
   */
  namePattern?: string;
}

const INGEST_PATH_PREFIX = '/flowscope.ingest.v1.Ingest/';
const MAX_LOGGED_PEERS = 10_000;

/** The certificate's CN(s) and DNS / IP subject alternative names. */
export function certificateNames(cert: tls.PeerCertificate): string[] {
  const cn = cert.subject?.CN;
  const names = Array.isArray(cn) ? [...cn] : cn ? [cn] : [];
  for (const part of (cert.subjectaltname ?? '').split(/,\s*/)) {
    const m = /^(?:DNS|IP Address):(.+)$/.exec(part);
    if (m) names.push(m[1]);
  }
  return names;
}

/**
 * The name a node's certificate carries: Hubble names nodes "cluster/node", and a certificate
 * name cannot hold a "/", so the part after the cluster.
 */
export function certificateNodeName(node: string): string {
  return node.slice(node.lastIndexOf('/') + 1);
}

/**
 * The name the relay checks on a collector's Observer API certificate: `pattern` with its `*`
 * replaced by the node's certificate name, dots turned into '-' so the result fits one DNS label
 * (Cilium's "<node>.<cluster>.hubble-grpc.cilium.io" scheme: one "*.<cluster>.…" certificate
 * serves every node); a pattern without `*` is used as it is; no pattern: the node's name.
 */
export function peerServerName(node: string, pattern?: string): string {
  const name = certificateNodeName(node);
  return pattern === undefined ? name : pattern.replace('*', name.replace(/\./g, '-'));
}

function globRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
}

/**
 * Refuses calls that need a client certificate and came without a valid one (gRPC
 * UNAUTHENTICATED), and collectors whose certificate names another node (PERMISSION_DENIED).
 * Each refusal is counted by service and reason, and logged once per peer and reason.
 */
export class ClientCertGuard {
  /** Refusals by `${service}:${reason}`, every combination present from the start (metrics). */
  readonly refused: Record<`${GuardedService}:${RefusalReason}`, number> = {
    'ingest:no_valid_certificate': 0,
    'ingest:name_mismatch': 0,
    'observer:no_valid_certificate': 0,
    'observer:name_mismatch': 0,
  };
  private readonly logged = new Set<string>();
  private readonly pattern: RegExp | null;

  constructor(
    private readonly opts: ClientCertGuardOptions,
    private readonly log: Logger,
  ) {
    this.pattern = opts.namePattern ? globRegExp(opts.namePattern) : null;
  }

  private refuse(service: GuardedService, reason: RefusalReason, peer: string, detail: Record<string, unknown>): void {
    this.refused[`${service}:${reason}`]++;
    const host = peer.replace(/:\d+$/, '');
    const key = `${service}|${reason}|${host}|${String(detail.node ?? '')}`;
    if (this.logged.has(key)) return;
    if (this.logged.size >= MAX_LOGGED_PEERS) this.logged.clear();
    this.logged.add(key);
    this.log.warn({ service, reason, peer: host, ...detail }, 'TLS client refused');
  }

  readonly interceptor: grpc.ServerInterceptor = (method, call) => {
    const service: GuardedService = method.path.startsWith(INGEST_PATH_PREFIX) ? 'ingest' : 'observer';
    if (!this.opts.require[service]) return new grpc.ServerInterceptingCall(call);
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (md, mdNext) => {
            if (call.getAuthContext().sslPeerCertificate) return mdNext(md);
            this.refuse(service, 'no_valid_certificate', call.getPeer(), { method: method.path });
            call.sendStatus({
              code: grpc.status.UNAUTHENTICATED,
              details: 'a client certificate from a CA this server trusts for clients is required (none, an expired one or one from another CA was presented)',
            });
          },
        });
      },
    });
  };

  /** Ingest hello: null when `node` may push with this call's certificate, else why not. */
  checkCollector(call: { getAuthContext(): { sslPeerCertificate?: tls.PeerCertificate }; getPeer(): string }, node: string): string | null {
    if (!this.opts.require.ingest) return null;
    const cert = call.getAuthContext().sslPeerCertificate;
    if (!cert) return 'no client certificate';
    const names = certificateNames(cert);
    const want = [node.toLowerCase(), certificateNodeName(node).toLowerCase()];
    if (names.some((n) => want.includes(n.toLowerCase()) || (this.pattern?.test(n) ?? false))) return null;
    this.refuse('ingest', 'name_mismatch', call.getPeer(), { node, certificate: names });
    const allowed = this.opts.namePattern ? ` or match ${this.opts.namePattern}` : '';
    return `the client certificate (${names.join(', ') || 'no names'}) does not name node "${node}": its CN or a DNS name must equal the node name (without cluster/)${allowed}`;
  }
}
