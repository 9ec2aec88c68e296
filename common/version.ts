// flowscope's version, read once from package.json: the CLI's --version, the relay's and the
// collectors' status and the emitter version of every flow all say the same.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function readPackage(): { root: string; version: string } {
  // Compiled files sit one level deeper (dist/common/) than sources (common/): walk up to the
  // first package.json, which is the project's.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'flowscope' && typeof pkg.version === 'string') return { root: dir, version: pkg.version };
    } catch {
      /* not here */
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('flowscope package.json not found');
    dir = parent;
  }
}

const PACKAGE = readPackage();
export const VERSION = PACKAGE.version;
/** The directory of flowscope's package.json: where shipped data files (dashboards, rules) are found. */
export const PACKAGE_ROOT = PACKAGE.root;
