// Bearer tokens for the relay's and the API's query services, read from a file that holds only
// their SHA-256 digests: each entry names a token and the namespaces it may see ("*": all).
// Tokens are random (newToken: 32 bytes), so a plain digest is enough at rest — there is nothing
// to brute-force that a slow password hash would protect. Lookups compare digests in constant
// time against every entry. The file is checked at start (TokenFileError: exit 2, naming the
// flag) and polled for changes; a changed file that does not check is logged and counted while
// the last good one stays in force.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import YAML from 'yaml';
import type { Logger } from '../logger.js';
import { StartError } from '../start-error.js';

export interface TokenEntry {
  name: string;
  /** Hex SHA-256 of the token. */
  sha256: string;
  /** Namespaces whose flows the token sees, or ["*"] for all. */
  namespaces: string[];
}

/** Who a token belongs to and what it may see; `namespaces` null: every namespace. */
export interface Principal {
  name: string;
  namespaces: ReadonlySet<string> | null;
}

/** A token file that does not check; at start it stops the service like bad usage (exit 2). */
export class TokenFileError extends StartError {
  constructor(message: string) {
    super(message, 2);
  }
}

// A Kubernetes namespace name (DNS-1123 label), or "*" for all.
const NAMESPACE = '^(\\*|[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)$';
const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['tokens'],
  properties: {
    tokens: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'sha256', 'namespaces'],
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' },
          sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          namespaces: {
            type: 'array',
            minItems: 1,
            uniqueItems: true,
            items: { type: 'string', pattern: NAMESPACE },
          },
        },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: false, strict: true }).compile<{ tokens: TokenEntry[] }>(SCHEMA);

/** An ajv instance path in the file's own terms: "/tokens/2/sha256" → "tokens[2].sha256". */
function where(instancePath: string): string {
  const s = instancePath
    .split('/')
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '');
  return s || 'the file';
}

/** What is wrong with a value, for a person editing the file. */
function problem(e: { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }): string {
  const at = where(e.instancePath);
  const field = e.instancePath.split('/').filter(Boolean);
  const last = field[field.length - 1] ?? '';
  const prev = field[field.length - 2] ?? '';
  if (e.keyword === 'additionalProperties') return `${at} has an unknown key "${String(e.params.additionalProperty)}"`;
  if (e.keyword === 'required') return `${at} is missing "${String(e.params.missingProperty)}"`;
  if (last === 'sha256' && e.keyword === 'pattern') return `${at} must be the 64 lower-case hex digits of the SHA-256 of the token`;
  if (prev === 'namespaces' && e.keyword === 'pattern') return `${at} must be a Kubernetes namespace name or "*"`;
  if (last === 'name' && e.keyword === 'pattern') return `${at} must be letters, digits, ".", "_" or "-" (at most 63)`;
  return `${at} ${e.message ?? 'is invalid'}`;
}

/** Parses and checks a token file's text (YAML or JSON); throws Error naming the problem. */
export function parseTokenFile(text: string): TokenEntry[] {
  let doc: unknown;
  try {
    doc = YAML.parse(text, { uniqueKeys: true });
  } catch (err) {
    throw new Error(`not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) throw new Error('is empty (expected "tokens:" with a list of entries)');
  if (!validate(doc)) {
    throw new Error(problem(validate.errors![0]));
  }
  const entries = doc.tokens;
  const names = new Set<string>();
  const digests = new Set<string>();
  entries.forEach((t, i) => {
    if (names.has(t.name)) throw new Error(`tokens[${i}].name "${t.name}" is used twice`);
    if (digests.has(t.sha256)) throw new Error(`tokens[${i}].sha256 is the same token as an earlier entry`);
    if (t.namespaces.includes('*') && t.namespaces.length > 1) throw new Error(`tokens[${i}].namespaces: "*" stands alone (it already means every namespace)`);
    names.add(t.name);
    digests.add(t.sha256);
  });
  return entries;
}

/** Hex SHA-256 of a token, as the file stores it. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random token: "fs_" and 32 random bytes in base64url. */
export function newToken(): string {
  return `fs_${randomBytes(32).toString('base64url')}`;
}

/** The longest token accepted for hashing; anything longer is no token of ours. */
export const MAX_TOKEN_LENGTH = 512;

/** The entries of one version of the file, ready for lookups. */
export class TokenSet {
  private readonly digests: Buffer[];
  private readonly principals: Principal[];
  constructor(readonly entries: readonly TokenEntry[]) {
    this.digests = entries.map((e) => Buffer.from(e.sha256, 'hex'));
    this.principals = entries.map((e) => ({ name: e.name, namespaces: e.namespaces.includes('*') ? null : new Set(e.namespaces) }));
  }

  /** The token's principal, or null. Every entry is compared (constant time per entry), so the
   * time taken does not say which entry, or how much of a digest, matched. */
  verify(token: string): Principal | null {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
    const d = createHash('sha256').update(token, 'utf8').digest();
    let found = -1;
    for (let i = 0; i < this.digests.length; i++) if (timingSafeEqual(d, this.digests[i]) && found < 0) found = i;
    return found < 0 ? null : this.principals[found];
  }
}

/** Reads and checks a token file; TokenFileError names `flag` and the problem. */
export function loadTokenFile(file: string, flag: string): TokenSet {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TokenFileError(`${flag} ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  try {
    return new TokenSet(parseTokenFile(text));
  } catch (err) {
    throw new TokenFileError(`${flag} ${file}: ${(err as Error).message}`);
  }
}

export interface TokenFileOptions {
  /** How often the file is checked for changes (default 2 s); 0: never. */
  reloadIntervalMs?: number;
}

/** A token file loaded at construction (throws TokenFileError) and followed while it changes. */
export class TokenFile {
  current: TokenSet;
  readonly stats = { reloads: 0, reloadErrors: 0 };
  private signature: string;
  private lastError = '';
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly file: string,
    private readonly log: Logger,
    readonly flag = '--auth-token-file',
    opts: TokenFileOptions = {},
  ) {
    this.current = loadTokenFile(file, flag);
    this.signature = this.stat();
    const interval = opts.reloadIntervalMs ?? 2000;
    if (interval > 0) {
      this.timer = setInterval(() => this.check(), interval);
      this.timer.unref();
    }
  }

  // stat follows symlinks: a Kubernetes secret volume swaps a symlink when the secret changes.
  private stat(): string {
    try {
      const s = fs.statSync(this.file);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }

  verify(token: string): Principal | null {
    return this.current.verify(token);
  }

  /** False while the file on disk changed and does not check (the previous tokens are in force). */
  get inForce(): boolean {
    return this.lastError === '';
  }

  /** Reloads a changed file; a file that does not check leaves the previous tokens in force. */
  check(): void {
    const sig = this.stat();
    if (sig === this.signature) return;
    let next: TokenSet;
    try {
      next = loadTokenFile(this.file, this.flag);
    } catch (err) {
      const msg = (err as Error).message;
      // Counted once per bad version, not once per poll.
      if (msg !== this.lastError) {
        this.stats.reloadErrors++;
        this.log.error({ err: msg }, 'token file changed but does not check; the previous tokens stay in force');
        this.lastError = msg;
      }
      return;
    }
    this.signature = sig;
    this.lastError = '';
    this.current = next;
    this.stats.reloads++;
    this.log.info({ file: this.file, tokens: next.entries.length }, 'token file reloaded');
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** Adds a token entry to a file (created with mode 0600 if absent), returning the new token.
 * The file is rewritten whole, through a temporary file renamed over it, so a reader never sees
 * half of it. Throws Error (with the problem) for a file that does not check or a name in use. */
export function addToken(file: string, name: string, namespaces: readonly string[]): string {
  let entries: TokenEntry[] = [];
  if (fs.existsSync(file)) entries = parseTokenFile(fs.readFileSync(file, 'utf8'));
  if (entries.some((e) => e.name === name)) throw new Error(`a token named "${name}" is already in ${file}`);
  const token = newToken();
  const next: TokenEntry[] = [...entries, { name, sha256: hashToken(token), namespaces: [...namespaces] }];
  // The new entry is checked with the same rules as the file.
  const text = path.extname(file) === '.json' ? `${JSON.stringify({ tokens: next }, null, 2)}\n` : YAML.stringify({ tokens: next });
  parseTokenFile(text);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
  return token;
}
