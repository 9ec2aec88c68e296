// The client side of flowscope.ingest.v1.Ingest/Push, spoken over node:http2 directly: gRPC's
// length-prefixed messages on one HTTP/2 stream, status from the trailers.
//
// Why not grpc-js here (it serves every other call): grpc-js copies each outgoing message into a
// new buffer (its framing), and may report a write done while it still holds the message (its
// retry buffer). A collector ships 20–40 MB/s of ~1 MB blocks; those copies, and blocks read back
// from disk that could not be reused, outlived a few scavenges and waited for full GCs, which
// kept 50–70 MB of dead buffers in the collector (docs/benchmarks.md). Here a block is written
// as it is, and a write's callback means the bytes reached the socket: its buffer can be reused.
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { types, encode, decode } from '../../proto/index.js';
import type { IngestAck, IngestMessage } from '../../proto/types.js';
import type { TlsFiles } from '../../common/tls.js';
import { IngestService } from '../../common/grpc-services.js';

const PREFIX_BYTES = 5;

/** TLS to the relay; the certificates are read from `files` at each connection (they follow rotation). */
export interface IngestTls {
  files: TlsFiles;
  /** The name the relay's certificate must carry (and the SNI); default: the host dialled. */
  serverName?: string;
  /** Skip the relay certificate's verification (tests, bootstrapping). */
  allowInsecure?: boolean;
}

export interface IngestChannelOptions {
  tls?: IngestTls | null;
  /** An HTTP/2 ping this often (ms); a connection that does not answer within keepaliveTimeoutMs is closed. */
  keepaliveMs: number;
  keepaliveTimeoutMs: number;
  /** How long a connection attempt may take (ms). */
  connectTimeoutMs: number;
}

export const DEFAULT_INGEST_CHANNEL: IngestChannelOptions = { keepaliveMs: 10_000, keepaliveTimeoutMs: 5_000, connectTimeoutMs: 10_000 };

/** A call's end other than OK: a gRPC status code and its message. */
export class IngestStatusError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(`${grpc.status[code] ?? code}: ${details}`);
  }
}

/** `host:port`, `[v6]:port`. */
export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port > 0 && port < 65536)) throw new Error(`relay address ${JSON.stringify(address)} is not host:port`);
  return { host: m[1], port };
}

/**
 * One HTTP/2 connection to a relay, opened when a call needs it and again after it broke. A name
 * with several addresses is tried in a random order (collectors given one service name spread
 * over its relays), the next address when one refuses.
 */
export class IngestChannel {
  private session: http2.ClientHttp2Session | null = null;
  private connecting: Promise<http2.ClientHttp2Session> | null = null;
  private closed = false;
  private readonly host: string;
  private readonly port: number;

  constructor(
    readonly address: string,
    private readonly opts: IngestChannelOptions = DEFAULT_INGEST_CHANNEL,
  ) {
    ({ host: this.host, port: this.port } = splitHostPort(address));
  }

  /** Opens a Push stream (connecting first if needed); rejects when the relay cannot be reached. */
  async push(): Promise<IngestCall> {
    const session = await this.connected();
    const stream = session.request(
      {
        ':method': 'POST',
        ':path': IngestService.Push.path,
        'content-type': 'application/grpc+proto',
        te: 'trailers',
        'grpc-accept-encoding': 'identity',
        'user-agent': 'flowscope-collector',
      },
      { endStream: false },
    );
    return new IngestCall(stream);
  }

  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = null;
  }

  private connected(): Promise<http2.ClientHttp2Session> {
    if (this.closed) return Promise.reject(new IngestStatusError(grpc.status.CANCELLED, 'channel closed'));
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return Promise.resolve(s);
    this.connecting ??= this.open().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async open(): Promise<http2.ClientHttp2Session> {
    let ips: string[];
    if (net.isIP(this.host)) ips = [this.host];
    else {
      try {
        ips = shuffle((await lookup(this.host, { all: true })).map((a) => a.address));
      } catch (err) {
        throw new IngestStatusError(grpc.status.UNAVAILABLE, `resolving ${this.host}: ${(err as Error).message}`);
      }
    }
    let last: Error = new Error('no address');
    for (const ip of ips) {
      try {
        const session = await this.openTo(ip);
        if (this.closed) {
          session.close();
          break;
        }
        this.session = session;
        return session;
      } catch (err) {
        last = err as Error;
      }
    }
    throw new IngestStatusError(grpc.status.UNAVAILABLE, `connecting to ${this.address}: ${last.message}`);
  }

  private openTo(ip: string): Promise<http2.ClientHttp2Session> {
    const t = this.opts.tls ?? null;
    return new Promise((resolve, reject) => {
      const session = http2.connect(`${t ? 'https' : 'http'}://${this.address}`, {
        createConnection: () => (t ? tls.connect(this.tlsOptions(t, ip)) : net.connect({ host: ip, port: this.port })),
        settings: { enablePush: false },
      });
      const timer = setTimeout(() => session.destroy(new Error(`no connection within ${this.opts.connectTimeoutMs} ms`)), this.opts.connectTimeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        session.destroy();
        reject(err);
      };
      const closed = () => fail(new Error('connection closed'));
      session.once('error', fail);
      session.once('close', closed);
      session.once('connect', () => {
        clearTimeout(timer);
        session.removeListener('error', fail);
        session.removeListener('close', closed);
        // Errors end the streams, which report them; the session needs a listener all the same.
        session.on('error', () => undefined);
        keepAlive(session, this.opts);
        resolve(session);
      });
    });
  }

  private tlsOptions(t: IngestTls, ip: string): tls.ConnectionOptions {
    const m = t.files.material;
    const name = t.serverName ?? (net.isIP(this.host) ? undefined : this.host);
    const o: tls.ConnectionOptions = { host: ip, port: this.port, ALPNProtocols: ['h2'], ca: m.ca, cert: m.cert, key: m.key };
    if (name) o.servername = name;
    if (t.allowInsecure) {
      o.rejectUnauthorized = false;
      o.checkServerIdentity = () => undefined;
    } else o.checkServerIdentity = (_host, cert) => tls.checkServerIdentity(name ?? this.host, cert);
    return o;
  }
}

function keepAlive(session: http2.ClientHttp2Session, opts: IngestChannelOptions): void {
  const timer = setInterval(() => {
    const deadline = setTimeout(() => session.destroy(new Error(`no keepalive answer within ${opts.keepaliveTimeoutMs} ms`)), opts.keepaliveTimeoutMs);
    try {
      if (!session.ping(() => clearTimeout(deadline))) clearTimeout(deadline);
    } catch {
      clearTimeout(deadline);
    }
  }, opts.keepaliveMs);
  timer.unref();
  session.once('close', () => clearInterval(timer));
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** gRPC's mapping of an HTTP status that is not 200 (doc/http-grpc-status-mapping.md). */
function httpStatusCode(status: number): grpc.status {
  switch (status) {
    case 400:
      return grpc.status.INTERNAL;
    case 401:
      return grpc.status.UNAUTHENTICATED;
    case 403:
      return grpc.status.PERMISSION_DENIED;
    case 404:
      return grpc.status.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return grpc.status.UNAVAILABLE;
    default:
      return grpc.status.UNKNOWN;
  }
}

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * One Push stream. Events: 'ack' (IngestAck), 'drain', and at its end either 'end' (status OK)
 * or 'error' (IngestStatusError), once.
 */
export class IngestCall extends EventEmitter {
  private status: { code: grpc.status; details: string } | null = null;
  private streamError: string | null = null;
  private partial: Buffer | null = null;
  private finished = false;

  constructor(private readonly stream: http2.ClientHttp2Stream) {
    super();
    stream.on('response', (h) => this.onHeaders(h, true));
    stream.on('trailers', (h) => this.onHeaders(h, false));
    // The relay's side has ended: its status (from the trailers) ends the call; our side is closed
    // too, as a stream still open for writing would otherwise never report its end.
    stream.on('end', () => {
      this.status ??= { code: grpc.status.UNAVAILABLE, details: 'relay ended the stream without a status' };
      this.finish();
    });
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('drain', () => this.emit('drain'));
    stream.on('error', (err: Error) => (this.streamError ??= err.message));
    stream.on('close', () => this.onClose());
  }

  /** Encodes and sends a message; false: wait for 'drain' before writing more. */
  writeMessage(msg: IngestMessage): boolean {
    return this.write(encode(types.IngestMessage, msg));
  }

  /**
   * Sends an encoded IngestMessage as it is (no copy). `done` is called once the stream no longer
   * reads `body`: with null when it reached the socket, with an error when the stream ended first.
   * False: wait for 'drain' before writing more.
   */
  write(body: Buffer, done?: (err: Error | null) => void): boolean {
    const prefix = Buffer.allocUnsafe(PREFIX_BYTES);
    prefix[0] = 0;
    prefix.writeUInt32BE(body.length, 1);
    const s = this.stream;
    if (s.destroyed || s.writableEnded) {
      if (done) process.nextTick(done, new Error('stream closed'));
      return false;
    }
    s.cork();
    s.write(prefix);
    const ok = s.write(body, done && ((err?: Error | null) => done(err ?? null)));
    s.uncork();
    return ok;
  }

  /** No more messages from this side; the relay's acks still arrive. */
  end(): void {
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.end();
  }

  /** Ends the stream now (RST_STREAM CANCEL); no event follows. */
  cancel(): void {
    this.finished = true;
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }

  private onHeaders(h: http2.IncomingHttpHeaders, initial: boolean): void {
    if (initial) {
      const st = Number(h[':status']);
      if (st !== 200) {
        this.status ??= { code: httpStatusCode(st), details: `relay answered HTTP ${st}` };
        this.finish();
        return;
      }
    }
    const code = h['grpc-status'];
    if (code !== undefined) this.status ??= { code: Number(code), details: percentDecode(String(h['grpc-message'] ?? '')) };
  }

  private onData(chunk: Buffer): void {
    let buf = this.partial === null ? chunk : Buffer.concat([this.partial, chunk]);
    while (buf.length >= PREFIX_BYTES) {
      const len = buf.readUInt32BE(1);
      if (buf.length < PREFIX_BYTES + len) break;
      if (buf[0] !== 0) return this.fail(grpc.status.INTERNAL, 'relay sent a compressed message');
      let ack: IngestAck;
      try {
        ack = decode<IngestAck>(types.IngestAck, buf.subarray(PREFIX_BYTES, PREFIX_BYTES + len));
      } catch (err) {
        return this.fail(grpc.status.INTERNAL, `relay sent an unreadable ack: ${(err as Error).message}`);
      }
      buf = buf.subarray(PREFIX_BYTES + len);
      this.emit('ack', ack);
      if (this.finished) return;
    }
    this.partial = buf.length > 0 ? buf : null;
  }

  private fail(code: grpc.status, details: string): void {
    this.status ??= { code, details };
    this.finish(http2.constants.NGHTTP2_CANCEL);
  }

  /** Reports the status (once) and closes the stream. */
  private finish(rstCode: number = http2.constants.NGHTTP2_NO_ERROR): void {
    if (!this.stream.destroyed) this.stream.close(rstCode);
    this.onClose();
  }

  private onClose(): void {
    if (this.finished) return;
    this.finished = true;
    const s = this.status ?? {
      code: grpc.status.UNAVAILABLE,
      details: this.streamError ?? `stream closed without a status (HTTP/2 code ${this.stream.rstCode})`,
    };
    if (s.code === grpc.status.OK) this.emit('end');
    else this.emit('error', new IngestStatusError(s.code, s.details));
  }
}
