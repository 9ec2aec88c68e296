// The token file: what it accepts, what it refuses (each with the problem named), lookups, the
// reload that keeps the last good version, and `addToken` (what `flowscope tokens create` does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { addToken, hashToken, loadTokenFile, newToken, parseTokenFile, TokenFile, TokenFileError, TokenSet } from './token-file.js';
import { bearerToken } from './grpc-auth.js';

const H = (t: string) => hashToken(t);

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-tokens-'));
}

test('YAML and JSON files give the same entries', () => {
  const yaml = `tokens:\n  - name: ci\n    sha256: ${H('a')}\n    namespaces: [shop, web]\n  - name: admin\n    sha256: ${H('b')}\n    namespaces: ["*"]\n`;
  const json = JSON.stringify({
    tokens: [
      { name: 'ci', sha256: H('a'), namespaces: ['shop', 'web'] },
      { name: 'admin', sha256: H('b'), namespaces: ['*'] },
    ],
  });
  assert.deepEqual(parseTokenFile(yaml), parseTokenFile(json));
  assert.deepEqual(
    parseTokenFile(yaml).map((e) => e.name),
    ['ci', 'admin'],
  );
  assert.deepEqual(parseTokenFile('tokens: []'), []);
});

test('a file that does not check is refused with the problem named', () => {
  const entry = (over: Record<string, unknown>) => JSON.stringify({ tokens: [{ name: 'ci', sha256: H('a'), namespaces: ['shop'], ...over }] });
  const cases: Array<[string, RegExp]> = [
    ['tokens: [\n', /not valid YAML or JSON/],
    ['', /is empty/],
    ['{}', /the file is missing "tokens"/],
    ['tokens: {}', /tokens must be array/],
    [JSON.stringify({ tokens: [], extra: 1 }), /the file has an unknown key "extra"/],
    [entry({ sha256: 'abc' }), /tokens\[0\]\.sha256 must be the 64 lower-case hex digits/],
    [entry({ sha256: H('a').toUpperCase() }), /tokens\[0\]\.sha256 must be the 64 lower-case hex digits/],
    [entry({ token: 'fs_plain' }), /tokens\[0\] has an unknown key "token"/],
    [entry({ namespaces: [] }), /tokens\[0\]\.namespaces must NOT have fewer than 1 items/],
    [entry({ namespaces: ['Shop'] }), /tokens\[0\]\.namespaces\[0\] must be a Kubernetes namespace name or "\*"/],
    [entry({ namespaces: ['*', 'shop'] }), /"\*" stands alone/],
    [entry({ name: 'a b' }), /tokens\[0\]\.name must be letters, digits/],
    [JSON.stringify({ tokens: [{ name: 'ci', namespaces: ['shop'] }] }), /tokens\[0\] is missing "sha256"/],
    [
      JSON.stringify({
        tokens: [
          { name: 'ci', sha256: H('a'), namespaces: ['shop'] },
          { name: 'ci', sha256: H('b'), namespaces: ['shop'] },
        ],
      }),
      /tokens\[1\]\.name "ci" is used twice/,
    ],
    [
      JSON.stringify({
        tokens: [
          { name: 'ci', sha256: H('a'), namespaces: ['shop'] },
          { name: 'cd', sha256: H('a'), namespaces: ['web'] },
        ],
      }),
      /tokens\[1\]\.sha256 is the same token/,
    ],
    ['tokens:\n  - name: ci\n    name: cd\n', /not valid YAML or JSON/],
  ];
  for (const [text, want] of cases) assert.throws(() => parseTokenFile(text), want, JSON.stringify(text));
});

test('lookups: the token of an entry gives its principal; anything else none', () => {
  const set = new TokenSet(
    parseTokenFile(
      JSON.stringify({
        tokens: [
          { name: 'shop', sha256: H('fs_shop'), namespaces: ['shop'] },
          { name: 'admin', sha256: H('fs_admin'), namespaces: ['*'] },
        ],
      }),
    ),
  );
  assert.deepEqual(set.verify('fs_shop'), { name: 'shop', namespaces: new Set(['shop']) });
  assert.deepEqual(set.verify('fs_admin'), { name: 'admin', namespaces: null });
  for (const bad of ['', 'fs_sho', 'fs_shop ', H('fs_shop'), 'x'.repeat(10_000)]) assert.equal(set.verify(bad), null, bad.slice(0, 20));
});

test('new tokens are distinct and high-entropy', () => {
  const a = newToken(),
    b = newToken();
  assert.match(a, /^fs_[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b);
});

test('Authorization values: only "Bearer <token>" gives a token', () => {
  assert.equal(bearerToken('Bearer fs_abc'), 'fs_abc');
  assert.equal(bearerToken('bearer   fs_abc'), 'fs_abc');
  for (const v of [undefined, '', 'Bearer', 'Bearer ', 'Basic Zm9vOmJhcg==', 'Bearer a b', 'fs_abc']) assert.equal(bearerToken(v), null, String(v));
});

test('loadTokenFile names the flag and the file', () => {
  const dir = tmp();
  try {
    assert.throws(
      () => loadTokenFile(path.join(dir, 'none.yaml'), '--auth-token-file'),
      (err: Error) => {
        assert.ok(err instanceof TokenFileError);
        assert.equal((err as TokenFileError).exitCode, 2);
        assert.equal(err.message, `--auth-token-file ${path.join(dir, 'none.yaml')}: no such file`);
        return true;
      },
    );
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'tokens: 3');
    assert.throws(() => loadTokenFile(path.join(dir, 'bad.yaml'), '--auth-token-file'), /^TokenFileError|--auth-token-file .*bad\.yaml: tokens must be array/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a changed file is reloaded; a bad change is logged and counted once, the previous tokens stay', () => {
  const dir = tmp();
  let logged = '';
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, cb) {
        logged += chunk;
        cb();
      },
    }),
  );
  const file = path.join(dir, 'tokens.yaml');
  try {
    const first = addToken(file, 'first', ['shop']);
    const tf = new TokenFile(file, log, '--auth-token-file', { reloadIntervalMs: 0 });
    assert.equal(tf.verify(first)?.name, 'first');
    assert.equal(tf.inForce, true);
    const second = addToken(file, 'second', ['web']);
    tf.check();
    assert.equal(tf.stats.reloads, 1);
    assert.equal(tf.verify(second)?.name, 'second');
    // A broken edit: the last good version stays in force, one error however often it is polled.
    fs.writeFileSync(file, `${fs.readFileSync(file, 'utf8')}  - name: third\n    sha256: nothex\n`);
    tf.check();
    tf.check();
    assert.equal(tf.stats.reloadErrors, 1);
    assert.equal(tf.inForce, false);
    assert.equal(tf.verify(first)?.name, 'first');
    assert.equal(tf.verify(second)?.name, 'second');
    assert.match(logged, /"err":"--auth-token-file [^"]*tokens\.yaml: tokens\[2\][^\n]*token file changed but does not check/);
    // Deleted: still the previous tokens, never open access.
    fs.rmSync(file);
    tf.check();
    assert.equal(tf.stats.reloadErrors, 2);
    assert.equal(tf.verify(first)?.name, 'first');
    // A good file again: in force.
    fs.writeFileSync(file, `tokens:\n  - name: third\n    sha256: ${hashToken('fs_third')}\n    namespaces: [db]\n`);
    tf.check();
    assert.equal(tf.inForce, true);
    assert.equal(tf.verify('fs_third')?.name, 'third');
    assert.equal(tf.verify(first), null, 'the new file replaced the old one');
    tf.close();
    for (const t of [first, second]) assert.ok(!logged.includes(t), 'no token in the log');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('addToken creates the file with mode 0600, appends, refuses a name in use, keeps only digests', () => {
  const dir = tmp();
  try {
    for (const name of ['tokens.yaml', 'tokens.json']) {
      const file = path.join(dir, name);
      const a = addToken(file, 'ci', ['shop', 'web']);
      const b = addToken(file, 'admin', ['*']);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      const text = fs.readFileSync(file, 'utf8');
      assert.ok(!text.includes(a) && !text.includes(b), 'the file holds no token');
      if (name.endsWith('.json')) JSON.parse(text);
      const set = loadTokenFile(file, '--auth-token-file');
      assert.deepEqual(set.verify(a), { name: 'ci', namespaces: new Set(['shop', 'web']) });
      assert.deepEqual(set.verify(b), { name: 'admin', namespaces: null });
      assert.throws(() => addToken(file, 'ci', ['shop']), /a token named "ci" is already in/);
      assert.throws(() => addToken(file, 'bad', ['Not_A_Namespace']), /namespaces\[0\] must be a Kubernetes namespace name/);
      assert.equal(loadTokenFile(file, '--auth-token-file').entries.length, 2);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
