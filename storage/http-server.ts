// `flowscope storage-server`: one process owns a chDB data directory and serves the part of
// ClickHouse's HTTP interface that @clickhouse/client and flowscope use, so several relays (and
// the API) share one store and run the same code they run against a ClickHouse server.
//
// Served: GET /ping; POST / with the query in the body (query, command) or in `?query=` with a
// request body (insert, exec with values); `param_*` bound parameters; settings as URL
// parameters; `default_format`; results streamed block by block; ClickHouse-style errors
// (HTTP 500, X-ClickHouse-Exception-Code, `Code: N. DB::Exception: …` body).
// Not served: sessions (`session_id`, `SET` statements), multipart parameters, compressed requests or responses,
// the native TCP protocol, users and quotas (bind it to a trusted network).
//
// Writes (anything not a read) run one at a time on one chDB session, in arrival order: the
// relays' insert fence (a scalar subquery over ingest_claims) then sees every write before it,
// which is what makes a session's move between relays exactly-once. Reads run on a pool of
// other sessions in parallel. An insert body goes to a temporary file first and the insert runs
// only once the body is complete: a client that disconnects before that (a killed relay) leaves
// nothing behind.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { Session } from 'chdb';
import type { Logger } from '../common/logger.js';
import { assertDataDirFree } from './client.js';
import { memoryTmpDir } from './insert-io.js';
import { listenError } from '../common/start-error.js';

export interface StorageServerOptions {
  /** chDB data directory this process owns. */
  dataDir: string;
  /** host:port to listen on. */
  listen: string;
  /** Sessions for reads (they run in parallel); writes have one session of their own. */
  readSessions: number;
  /** Largest insert body accepted (bytes). */
  maxBodyBytes: number;
  /** Requests waiting for a session beyond this are refused (code 202, HTTP 503). */
  maxQueued: number;
  /** Where insert bodies are written while they arrive (default: tmpfs where there is one). */
  tmpDir?: string;
}

export const DEFAULT_STORAGE_SERVER_OPTIONS = { readSessions: 3, maxBodyBytes: 256 * 1024 * 1024, maxQueued: 256 };

export interface StorageServerStats {
  requests: number;
  reads: number;
  writes: number;
  inserts: number;
  insertBytes: number;
  errors: number;
  /** Inserts whose client went away before the body was complete: never run. */
  abandonedInserts: number;
  /** Requests whose client went away while they waited for a session: never run. */
  cancelled: number;
  /** Requests refused: bad request, body too large, queue full. */
  rejected: number;
}

/** ClickHouse error codes used here (the client only parses them). */
const CODE = { UNKNOWN: 1000, BAD_ARGUMENTS: 36, TOO_LARGE_REQUEST: 307, TOO_MANY_QUERIES: 202, QUERY_WAS_CANCELLED: 394, SYNTAX: 62 };

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Settings that belong to the HTTP layer; the embedded engine has no use for them. */
const HTTP_ONLY = new Set([
  'query_id',
  'query',
  'database',
  'default_format',
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_response_buffer_size',
  'buffer_size',
  'compress',
  'decompress',
  'role',
]);
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const READ_KEYWORDS = new Set(['SELECT', 'WITH', 'SHOW', 'DESC', 'DESCRIBE', 'EXISTS', 'EXPLAIN']);

/**
 * Sessions handed to one request at a time, in arrival order. A request whose client went away
 * while it waited leaves the queue at once: it neither runs (its client already gave up, e.g. on
 * its request timeout, and may have sent it again) nor counts against `maxQueued`.
 */
export class Pool<S> {
  private readonly free: S[] = [];
  private readonly waiters: Array<{ resolve: (s: S) => void; reject: (e: Error) => void; signal?: AbortSignal; onAbort?: () => void }> = [];
  /** Waiters that left the queue because their client went away. */
  cancelled = 0;
  constructor(
    readonly sessions: readonly S[],
    private readonly maxQueued: number,
  ) {
    this.free.push(...sessions);
  }
  get queued(): number {
    return this.waiters.length;
  }
  get idle(): number {
    return this.free.length;
  }
  /** A free session, or a place in the queue; rejects when `signal` aborts before one is free. */
  acquire(signal?: AbortSignal): Promise<S> {
    if (signal?.aborted) return Promise.reject(new HttpError(499, CODE.QUERY_WAS_CANCELLED, 'client went away before the query started'));
    const s = this.free.pop();
    if (s !== undefined) return Promise.resolve(s);
    if (this.waiters.length >= this.maxQueued) return Promise.reject(new HttpError(503, CODE.TOO_MANY_QUERIES, 'too many queued queries'));
    return new Promise((resolve, reject) => {
      const w: (typeof this.waiters)[number] = { resolve, reject, signal };
      if (signal) {
        w.onAbort = () => {
          const i = this.waiters.indexOf(w);
          if (i < 0) return;
          this.waiters.splice(i, 1);
          this.cancelled++;
          reject(new HttpError(499, CODE.QUERY_WAS_CANCELLED, 'client went away before the query started'));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
    });
  }
  release(s: S): void {
    const w = this.waiters.shift();
    if (!w) {
      this.free.push(s);
      return;
    }
    if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
    w.resolve(s);
  }
}

/** The first keyword of a statement, after comments and parentheses. */
export function firstKeyword(sql: string): string {
  const s = sql.replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/|\()+/, '');
  return (/^[A-Za-z]+/.exec(s)?.[0] ?? '').toUpperCase();
}

/**
 * The statement that reads an insert body from `file`: `… FROM input('structure') … FORMAT F`
 * reads the file with that structure; `INSERT INTO t (…) FORMAT F` becomes `… FROM INFILE`.
 * The file name is ours (a random name in our directory), never the client's.
 */
export function insertFromFile(sql: string, file: string): string {
  const m = /\sFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$/i.exec(sql);
  if (!m) throw new HttpError(400, CODE.BAD_ARGUMENTS, 'a request body needs an INSERT … FORMAT <format> query');
  const fmt = m[1];
  const head = sql.slice(0, m.index);
  if (!/^\s*INSERT\s+INTO\s/i.test(head)) throw new HttpError(400, CODE.BAD_ARGUMENTS, 'only INSERT queries take a request body');
  const lit = `'${file}'`;
  const input = /\binput\s*\(\s*('(?:[^'\\]|\\.)*')\s*\)/i.exec(head);
  if (input) return `${head.slice(0, input.index)}file(${lit}, '${fmt}', ${input[1]})${head.slice(input.index + input[0].length)}`;
  return `${head} FROM INFILE ${lit} FORMAT ${fmt}`;
}

/** Bound parameters from `param_<name>` URL parameters, in the text form ClickHouse reads. */
function paramsOf(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) if (k.startsWith('param_')) out[k.slice(6)] = v;
  return out;
}

function settingsOf(url: URL): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of url.searchParams) {
    if (k.startsWith('param_') || HTTP_ONLY.has(k)) continue;
    if (!SETTING_NAME.test(k)) throw new HttpError(400, CODE.BAD_ARGUMENTS, `invalid setting name ${JSON.stringify(k)}`);
    out.push([k, v]);
  }
  return out;
}

/** A setting value as a SQL literal: numbers as they are, anything else quoted. */
function settingLiteral(v: string): string {
  return /^-?\d+(\.\d+)?$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** chDB's binder recognises a tuple by this class name. */
class TupleParam {
  constructor(readonly values: unknown[]) {}
}

const ESCAPES: Record<string, string> = { '0': '\0', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', a: '\x07', v: '\v', e: '\x1b' };

/** ClickHouse's text unescaping (`\\x` is x unless x names a control character). */
function unescapeText(v: string): string {
  return v.includes('\\') ? v.replace(/\\(.)/gs, (_m, c: string) => ESCAPES[c] ?? c) : v;
}

/**
 * An HTTP parameter's text as the value chDB's binder takes. chDB formats a string parameter as
 * escaped text itself, so a plain value is unescaped first (the engine then reads the client's
 * value); a composite literal ([…], (…), {…}) with quoted elements is parsed into arrays,
 * tuples and maps that the binder writes back as the same literal.
 */
export function bindValue(v: string): unknown {
  if (/^[[({]/.test(v)) {
    try {
      const p = new LiteralParser(v);
      const out = p.value();
      if (p.done()) return out;
    } catch {
      // not a composite literal: a string that starts with a bracket
    }
  }
  return unescapeText(v);
}

class LiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}
  done(): boolean {
    this.ws();
    return this.i === this.s.length;
  }
  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }
  private fail(): never {
    throw new Error('not a literal');
  }
  private list(close: string): unknown[] {
    const out: unknown[] = [];
    this.ws();
    if (this.s[this.i] === close) {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === close) return out;
      if (c !== ',') this.fail();
    }
  }
  value(): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === '[') {
      this.i++;
      return this.list(']');
    }
    if (c === '(') {
      this.i++;
      return new TupleParam(this.list(')'));
    }
    if (c === '{') {
      this.i++;
      const m = new Map<unknown, unknown>();
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return m;
      }
      for (;;) {
        const k = this.value();
        this.ws();
        if (this.s[this.i++] !== ':') this.fail();
        m.set(k, this.value());
        this.ws();
        const d = this.s[this.i++];
        if (d === '}') return m;
        if (d !== ',') this.fail();
      }
    }
    if (c === "'") {
      let out = '';
      for (this.i++; this.i < this.s.length; this.i++) {
        const ch = this.s[this.i];
        if (ch === '\\') {
          const n = this.s[++this.i];
          out += ESCAPES[n] ?? n;
        } else if (ch === "'") {
          this.i++;
          return out;
        } else out += ch;
      }
      this.fail();
    }
    const m = /^(NULL|TRUE|FALSE|true|false|-?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|inf|nan))/.exec(this.s.slice(this.i));
    if (!m) this.fail();
    this.i += m[0].length;
    const t = m[0];
    if (t === 'NULL') return null;
    if (/^(true|false)$/i.test(t)) return t.toLowerCase() === 'true';
    if (/^-?\d+$/.test(t)) return Number.isSafeInteger(Number(t)) ? Number(t) : BigInt(t);
    return Number(t);
  }
}

function bindAll(params: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) out[k] = bindValue(v);
  return out;
}

function chError(err: unknown): { code: number; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  const m = /Code:\s*(\d+)\./.exec(message);
  return { code: m ? Number(m[1]) : CODE.UNKNOWN, message: m ? message.slice(m.index) : `Code: ${CODE.UNKNOWN}. DB::Exception: ${message}` };
}

export class StorageServer {
  readonly stats: StorageServerStats = {
    requests: 0,
    reads: 0,
    writes: 0,
    inserts: 0,
    insertBytes: 0,
    errors: 0,
    abandonedInserts: 0,
    cancelled: 0,
    rejected: 0,
  };
  private readonly server: http.Server;
  private readonly writer: Pool<Session>;
  private readonly readers: Pool<Session>;
  /** Settings each session was left with by its last request (none: all at their defaults). */
  private readonly sessionSettings = new Map<Session, Map<string, string>>();
  private tmp = '';
  /** Bound statements one at a time, process-wide: chDB's parameter state is not per session
   * (its own binder chains bound async queries; bound stream starts join the same order here). */
  private boundChain: Promise<unknown> = Promise.resolve();
  private seq = 0;
  private stopping = false;
  private inFlight = 0;
  private onIdle: (() => void) | null = null;
  port = 0;

  private constructor(
    private readonly opts: StorageServerOptions,
    private readonly log: Logger,
  ) {
    // Sessions on one path share the engine; the first one opens the directory.
    const writer = new Session(opts.dataDir);
    const readers: Session[] = [];
    for (let i = 0; i < Math.max(1, opts.readSessions); i++) readers.push(new Session(opts.dataDir));
    this.writer = new Pool<Session>([writer], opts.maxQueued);
    this.readers = new Pool<Session>(readers, opts.maxQueued);
    // Bound parameters travel in the URL: a relay insert's marks (one per collector batch) make
    // URLs far longer than Node's 16 KiB header default. 1 MiB is ClickHouse's http_max_uri_size.
    this.server = http.createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => void this.handle(req, res));
    // Long inserts and reads: no request timeout of Node's own.
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 10_000;
  }

  static async start(opts: StorageServerOptions, log: Logger): Promise<StorageServer> {
    assertDataDirFree(opts.dataDir);
    await fs.mkdir(opts.dataDir, { recursive: true });
    const s = new StorageServer(opts, log);
    s.tmp = await fs.mkdtemp(path.join(opts.tmpDir ?? memoryTmpDir(), `flowscope-storage-${process.pid}-`));
    const { host, port } = splitListen(opts.listen);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', (e) => reject(listenError(e, opts.listen, '--listen')));
      s.server.listen(port, host, () => resolve());
    });
    s.port = (s.server.address() as { port: number }).port;
    log.info({ listen: opts.listen, port: s.port, dataDir: opts.dataDir, readSessions: opts.readSessions }, 'storage server listening');
    return s;
  }

  get queued(): number {
    return this.writer.queued + this.readers.queued;
  }

  /**
   * Stops accepting, lets the requests under way finish, then closes every connection: clients
   * keep their connections alive between requests, so waiting for them to close would wait for
   * the clients to stop.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeIdleConnections();
    while (this.inFlight > 0) await new Promise<void>((r) => (this.onIdle = r));
    this.server.closeAllConnections();
    await closed;
    // Wait for running statements: a session closed under one aborts the engine.
    const all = [...this.writer.sessions, ...this.readers.sessions];
    for (const pool of [this.writer, this.readers]) for (let i = 0; i < pool.sessions.length; i++) await pool.acquire();
    for (const s of all) s.close();
    await fs.rm(this.tmp, { recursive: true, force: true });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.stats.requests++;
    this.inFlight++;
    res.once('close', () => {
      if (--this.inFlight === 0) this.onIdle?.();
    });
    // Stopping: this connection is not kept for another request.
    if (this.stopping) res.setHeader('Connection', 'close');
    const url = new URL(req.url ?? '/', 'http://storage');
    const queryId = url.searchParams.get('query_id') || randomUUID();
    res.setHeader('X-ClickHouse-Query-Id', queryId);
    try {
      if (url.pathname === '/ping') {
        req.resume();
        res.end('Ok.\n');
        return;
      }
      if (url.pathname !== '/') throw new HttpError(404, CODE.BAD_ARGUMENTS, `unknown path ${url.pathname}`);
      if (req.headers['content-encoding']) throw new HttpError(400, CODE.BAD_ARGUMENTS, 'compressed requests are not supported');
      if ((req.headers['content-type'] ?? '').startsWith('multipart/')) throw new HttpError(400, CODE.BAD_ARGUMENTS, 'multipart requests are not supported');
      if (url.searchParams.has('session_id')) throw new HttpError(400, CODE.BAD_ARGUMENTS, 'session_id is not supported');
      const params = paramsOf(url);
      const settings = settingsOf(url);
      const format = url.searchParams.get('default_format') ?? 'TabSeparated';
      const inUrl = url.searchParams.get('query');
      if (inUrl !== null && req.method === 'POST') {
        await this.insert(req, res, inUrl, params, settings);
        return;
      }
      const sql = inUrl ?? (await readSmallBody(req, 1024 * 1024));
      if (!sql.trim()) throw new HttpError(400, CODE.BAD_ARGUMENTS, 'empty query');
      const keyword = firstKeyword(sql);
      // Without sessions a SET would outlive its request on a pooled session.
      if (keyword === 'SET') throw new HttpError(400, CODE.BAD_ARGUMENTS, 'SET is not supported (no sessions): pass settings as URL parameters');
      if (READ_KEYWORDS.has(keyword)) await this.read(req, res, sql, params, settings, format);
      else await this.write(req, res, sql, params, settings, format);
    } catch (err) {
      this.fail(res, err);
    }
  }

  private fail(res: http.ServerResponse, err: unknown): void {
    if (err instanceof HttpError) {
      if (err.status !== 499) this.stats.rejected++;
    } else this.stats.errors++;
    const { code, message } = err instanceof HttpError ? { code: err.code, message: `Code: ${err.code}. DB::Exception: ${err.message}` } : chError(err);
    if (res.headersSent) {
      // Mid-stream: the client must not take a cut answer for a whole one.
      this.log.warn({ err: message }, 'query failed while streaming its result');
      res.destroy();
      return;
    }
    res.statusCode = err instanceof HttpError ? err.status : 500;
    res.setHeader('X-ClickHouse-Exception-Code', String(code));
    res.setHeader('Content-Type', 'text/plain; charset=UTF-8');
    res.end(`${message}\n`);
  }

  /**
   * Runs `use` with a session of the pool and this request's settings. A session keeps the
   * settings of its last request, and only the difference is applied, in one SET: a relay sends
   * the same few settings with every request, and every statement on the one write session
   * delays all writes behind it. `req`: the request stops waiting for a session if its client
   * goes away.
   */
  private async withSession<T>(
    pool: Pool<Session>,
    req: http.IncomingMessage | null,
    settings: Array<[string, string]>,
    sql: string,
    use: (s: Session) => Promise<T>,
  ): Promise<T> {
    const asked = performance.now();
    const gone = new AbortController();
    const onGone = () => gone.abort();
    req?.socket.once('close', onGone);
    if (req?.socket.destroyed) gone.abort();
    let s: Session;
    try {
      s = await pool.acquire(gone.signal);
    } catch (err) {
      req?.socket.off('close', onGone);
      if (gone.signal.aborted) {
        this.stats.cancelled++;
        this.log.info({ queued: pool.queued }, 'request dropped: its client went away while it waited for a session');
      }
      throw err;
    }
    const ran = performance.now();
    try {
      req?.socket.off('close', onGone);
      await this.applySettings(s, settings);
      return await use(s);
    } finally {
      pool.release(s);
      if (this.log.isLevelEnabled('debug'))
        this.log.debug(
          {
            pool: pool === this.writer ? 'write' : 'read',
            sql: sql.slice(0, 100).replace(/\s+/g, ' '),
            waitedMs: Math.round(ran - asked),
            ranMs: Math.round(performance.now() - ran),
            queued: pool.queued,
          },
          'request done',
        );
    }
  }

  /** Brings a session's settings to exactly `wanted` (anything else at its default). */
  private async applySettings(s: Session, wanted: Array<[string, string]>): Promise<void> {
    let current = this.sessionSettings.get(s);
    if (!current) this.sessionSettings.set(s, (current = new Map()));
    const want = new Map(wanted);
    const changes: string[] = [];
    for (const [k, v] of want) if (current.get(k) !== v) changes.push(`${k} = ${settingLiteral(v)}`);
    for (const k of current.keys()) if (!want.has(k)) changes.push(`${k} = DEFAULT`);
    if (changes.length === 0) return;
    try {
      await s.queryAsync(`SET ${changes.join(', ')}`);
      this.sessionSettings.set(s, want);
    } catch (err) {
      // State unknown (a bad name or value may have failed part way): every setting involved back
      // to its default, one by one, so the next request starts clean.
      for (const k of new Set([...current.keys(), ...want.keys()]))
        await s.queryAsync(`SET ${k} = DEFAULT`).catch((e: Error) => this.log.warn({ setting: k, err: e.message }, 'could not reset a setting'));
      this.sessionSettings.set(s, new Map());
      throw err;
    }
  }

  private exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.boundChain.then(fn);
    this.boundChain = run.catch(() => undefined);
    return run;
  }

  private run(s: Session, sql: string, params: Record<string, string>, format: string): Promise<{ bytes(): Uint8Array }> {
    if (Object.keys(params).length === 0) return s.queryAsync(sql, { format });
    const bound = bindAll(params);
    return this.exclusive(() => s.queryBindAsync(sql, bound, { format }));
  }

  private async read(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    sql: string,
    params: Record<string, string>,
    settings: Array<[string, string]>,
    format: string,
  ): Promise<void> {
    this.stats.reads++;
    await this.withSession(this.readers, req, settings, sql, async (s) => {
      const stream =
        Object.keys(params).length === 0 ? s.queryStream(sql, { format }) : await this.exclusive(() => s.queryStreamBind(sql, bindAll(params), { format }));
      let closed = false;
      const onClose = () => {
        closed = true;
        stream.cancel();
      };
      res.once('close', onClose);
      try {
        for await (const chunk of stream) {
          if (closed) break;
          if (!res.headersSent) {
            res.statusCode = 200;
            res.setHeader('Content-Type', 'text/plain; charset=UTF-8');
          }
          if (!res.write(chunk.raw())) await drainOrClose(res);
        }
        if (!closed) res.end();
      } finally {
        res.off('close', onClose);
        stream.cancel();
      }
    });
  }

  private async write(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    sql: string,
    params: Record<string, string>,
    settings: Array<[string, string]>,
    format: string,
  ): Promise<void> {
    this.stats.writes++;
    // A write whose client gave up while it queued is not run: the client saw it fail.
    const out = await this.withSession(this.writer, req, settings, sql, (s) => this.run(s, sql, params, format));
    res.statusCode = 200;
    res.end(Buffer.from(out.bytes()));
  }

  /** An insert with a body: the body goes to a file; only a complete body is inserted. */
  private async insert(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    sql: string,
    params: Record<string, string>,
    settings: Array<[string, string]>,
  ): Promise<void> {
    const declared = Number(req.headers['content-length'] ?? -1);
    if (declared > this.opts.maxBodyBytes) {
      req.resume();
      throw new HttpError(413, CODE.TOO_LARGE_REQUEST, `insert body of ${declared} bytes is over the limit of ${this.opts.maxBodyBytes}`);
    }
    const file = path.join(this.tmp, `${this.seq++}.body`);
    let bytes = 0;
    const limit = this.opts.maxBodyBytes;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        if (bytes > limit) cb(new HttpError(413, CODE.TOO_LARGE_REQUEST, `insert body is over the limit of ${limit} bytes`));
        else cb(null, chunk);
      },
    });
    try {
      try {
        // Rejects if the client goes away first ('aborted'): the insert never runs.
        await pipeline(req, counter, createWriteStream(file));
      } catch (err) {
        if (err instanceof HttpError) throw err;
        this.stats.abandonedInserts++;
        this.log.info({ bytes, err: (err as Error).message }, 'insert abandoned: the client went away before its body was complete');
        res.destroy();
        return;
      }
      const statement = insertFromFile(sql, file);
      this.stats.inserts++;
      this.stats.insertBytes += bytes;
      this.stats.writes++;
      // A client gone while the insert waited for the writer: it is not run either.
      await this.withSession(this.writer, req, settings, sql, (s) => this.run(s, statement, params, 'TabSeparated'));
      res.statusCode = 200;
      res.setHeader('X-ClickHouse-Summary', JSON.stringify({ written_bytes: String(bytes) }));
      res.end();
    } finally {
      await fs.rm(file, { force: true });
    }
  }
}

/** Waits for a response to drain or close; both listeners go away after either (a long answer to
 * a slow client waits many times). */
function drainOrClose(res: http.ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function readSmallBody(req: http.IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        req.destroy();
        reject(new HttpError(413, CODE.TOO_LARGE_REQUEST, `query text over ${max} bytes`));
      } else parts.push(c);
    });
    req.once('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.once('error', reject);
  });
}

export function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const port = Number(listen.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid listen address "${listen}": host:port`);
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0', port };
}
