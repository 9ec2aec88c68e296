// `flowscope tokens create`, and services given a token file that does not check: a one-line
// error naming the flag and exit 2, never a start with open access.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../testing/harness.js';
import { hashToken, loadTokenFile } from '../../common/auth/token-file.js';

const noStack = (stderr: string) => assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');

test('tokens create: prints the token once, keeps its SHA-256 in a 0600 file, appends', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-tokens-cli-'));
  try {
    const file = path.join(dir, 'tokens.yaml');
    const a = await run(['tokens', 'create', '--name', 'ci', '--namespace', 'shop', '--namespace', 'web', '--file', file]);
    assert.equal(a.code, 0, a.stderr);
    const token = a.stdout.trim();
    assert.match(token, /^fs_[A-Za-z0-9_-]{43}$/);
    assert.equal(a.stdout, `${token}\n`, 'stdout is the token alone (for `> ci.token`)');
    assert.match(a.stderr, /Added token "ci" \(shop, web\)/);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.includes(hashToken(token)) && !text.includes(token));
    const b = await run(['tokens', 'create', '--name', 'admin', '--namespace', '*', '--file', file]);
    assert.equal(b.code, 0, b.stderr);
    const set = loadTokenFile(file, '--auth-token-file');
    assert.deepEqual(set.verify(token), { name: 'ci', namespaces: new Set(['shop', 'web']) });
    assert.deepEqual(set.verify(b.stdout.trim()), { name: 'admin', namespaces: null });

    for (const [args, want] of [
      [['--name', 'ci', '--namespace', 'shop'], /a token named "ci" is already in/],
      [['--name', 'x'], /give at least one --namespace/],
      [['--name', 'x', '--namespace', 'Not_Valid'], /invalid value "Not_Valid" for --namespace/],
      [['--name', 'a b', '--namespace', 'shop'], /name must be letters, digits/],
    ] as Array<[string[], RegExp]>) {
      const r = await run(['tokens', 'create', ...args, '--file', file]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, want);
      assert.equal(r.stdout, '', 'no token printed');
      noStack(r.stderr);
    }
    assert.equal(loadTokenFile(file, '--auth-token-file').entries.length, 2, 'refused creations left the file as it was');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('relay and api with a token file that does not check: exit 2, one line naming the flag', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-tokens-cli-'));
  try {
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'tokens:\n  - name: ci\n    sha256: not-a-digest\n    namespaces: [shop]\n');
    const cases: Array<[string, string[], RegExp]> = [
      [
        'relay, malformed',
        ['relay', '--listen', '127.0.0.1:0', '--data-dir', path.join(dir, 'chdb'), '--metrics-addr', 'none', '--auth-token-file', bad],
        /^Error: --auth-token-file .*bad\.yaml: tokens\[0\]\.sha256 must be the 64 lower-case hex digits of the SHA-256 of the token$/,
      ],
      [
        'relay, missing',
        ['relay', '--listen', '127.0.0.1:0', '--data-dir', path.join(dir, 'chdb'), '--metrics-addr', 'none', '--auth-token-file', path.join(dir, 'none.yaml')],
        /^Error: --auth-token-file .*none\.yaml: no such file$/,
      ],
      [
        'relay, empty path',
        ['relay', '--listen', '127.0.0.1:0', '--data-dir', path.join(dir, 'chdb'), '--metrics-addr', 'none', '--auth-token-file', ''],
        /^Error: --auth-token-file : /,
      ],
      [
        'api, malformed',
        ['api', '--listen', '127.0.0.1:0', '--server', '127.0.0.1:1', '--auth-token-file', bad],
        /^Error: --auth-token-file .*bad\.yaml: tokens\[0\]\.sha256/,
      ],
    ];
    for (const [name, args, want] of cases) {
      const r = await run(args, { timeoutMs: 60_000 });
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line: ${r.stderr}`);
      assert.match(r.stderr.trim(), want, name);
      noStack(r.stderr);
    }
    assert.ok(!fs.existsSync(path.join(dir, 'chdb')), 'the relay stopped before opening storage');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
