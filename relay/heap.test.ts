import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { RELAY_RUNTIME_FLAGS } from './heap.js';

test('relay heap: every run-time flag is one this V8 knows', () => {
  // v8.setFlagsFromString ignores a flag it does not know, silently.
  const v8Options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
  for (const flag of RELAY_RUNTIME_FLAGS) {
    const name = flag.replace(/^--(no-)?/, '').replace(/=.*$/, '');
    assert.match(v8Options, new RegExp(`^\\s*--${name}[ (]`, 'm'), `V8 knows ${flag}`);
  }
});
