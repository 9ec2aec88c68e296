// Certificates for TLS tests, made with `flowscope certs`' own functions into a temporary
// directory: a CA and certificates from it, a second CA (the wrong one), an expired certificate.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { issuePem, makeCaPem, type PemPair, type Validity } from '../api/cli/certs.js';

export interface TlsFixture {
  dir: string;
  ca: PemPair;
  /** Path of a file in the directory. */
  file(name: string): string;
  /** Issues `name`.crt / `name`.key from `ca` (default: the fixture's CA); returns their paths. */
  issue(
    name: string,
    cn: string,
    names: string[],
    opts?: { ca?: PemPair; validity?: Validity; server?: boolean; client?: boolean },
  ): { cert: string; key: string };
  /** Writes a CA's certificate as `name`.crt. */
  writeCa(name: string, ca: PemPair): string;
  cleanup(): void;
}

export function makeTlsFixture(): TlsFixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-tls-'));
  const ca = makeCaPem();
  const file = (name: string) => path.join(dir, name);
  // Write then rename, as a rotation does: a watcher never reads half a file.
  const write = (name: string, data: string) => {
    fs.writeFileSync(`${file(name)}.tmp`, data, { mode: 0o600 });
    fs.renameSync(`${file(name)}.tmp`, file(name));
    return file(name);
  };
  write('ca.crt', ca.certPem);
  return {
    dir,
    ca,
    file,
    issue(name, cn, names, opts = {}) {
      const p = issuePem(opts.ca ?? ca, cn, names, { server: opts.server ?? true, client: opts.client ?? true }, opts.validity ?? 30);
      return { key: write(`${name}.key`, p.keyPem), cert: write(`${name}.crt`, p.certPem) };
    },
    writeCa: (name, c) => write(`${name}.crt`, c.certPem),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
