// Checks V8 flags a process sets for itself: v8.setFlagsFromString ignores one it does not
// know, silently, so a misspelt or removed flag would leave a heap setting off unnoticed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

/** Fails unless this node's V8 lists every flag (a `--no-` prefix and `=value` aside). */
export function assertV8KnowsFlags(flags: readonly string[]): void {
  const v8Options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
  for (const flag of flags) {
    const name = flag.replace(/^--(no-)?/, '').replace(/=.*$/, '');
    assert.match(v8Options, new RegExp(`^\\s*--${name}[ (]`, 'm'), `V8 knows ${flag}`);
  }
}
