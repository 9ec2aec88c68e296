// TLS from the command line: every bad certificate setup stops the command at start with one
// line and exit 2; with `flowscope certs` files, a relay and a collector run mTLS end to end and
// `flowscope observe --tls …` reads the flows (and is refused without a client certificate).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { freePort, run, startProc, waitFor } from '../testing/harness.js';
import { makeTlsFixture } from '../testing/tls-fixtures.js';

/** The fingerprint of the certificate a TLS server on `port` presents to a new connection. */
function servedFingerprint(port: number, f: (n: string) => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: fs.readFileSync(f('ca.crt')), ALPNProtocols: ['h2'] }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

/** stderr without Node's own warnings: what flowscope printed. */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !/^\(node:\d+\)|^\(Use `node --trace/.test(l));
}

test('bad TLS input: one line, exit 2, nothing started', async () => {
  const fx = makeTlsFixture();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-tls-cli-'));
  try {
    const good = fx.issue('relay', 'flowscope-relay', ['localhost']);
    const other = fx.issue('other', 'x', ['x']);
    const expired = fx.issue('expired', 'flowscope-relay', ['localhost'], {
      validity: { notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) },
    });
    const wrongCa = fx.file('missing-ca.crt');
    const relay = (...tls: string[]) => ['relay', '--listen', '127.0.0.1:0', '--data-dir', path.join(dir, 'chdb'), '--metrics-addr', 'none', ...tls];
    const cases: Array<[string, string[], RegExp]> = [
      [
        'relay: missing key file',
        relay('--tls-relay-server-cert-file', good.cert, '--tls-relay-server-key-file', fx.file('nope.key')),
        /^Error: cannot read --tls-relay-server-key-file .*nope\.key: no such file$/,
      ],
      [
        'relay: expired certificate',
        relay('--tls-relay-server-cert-file', expired.cert, '--tls-relay-server-key-file', expired.key),
        /^Error: --tls-relay-server-cert-file .*expired\.crt: certificate "CN=flowscope-relay.*" expired on /,
      ],
      [
        'collector: key of another certificate',
        [
          'collector',
          '--relay',
          'none',
          '--listen',
          '127.0.0.1:0',
          '--metrics-addr',
          'none',
          '--tls-server-cert-file',
          good.cert,
          '--tls-server-key-file',
          other.key,
        ],
        /^Error: --tls-server-key-file .*other\.key is not the key of --tls-server-cert-file .*relay\.crt$/,
      ],
      [
        'collector: missing relay CA',
        ['collector', '--relay', 'localhost:1', '--listen', '127.0.0.1:0', '--metrics-addr', 'none', '--tls-relay-server-ca-files', wrongCa],
        /^Error: cannot read --tls-relay-server-ca-files .*missing-ca\.crt: no such file$/,
      ],
      [
        'api: client CA that is not a certificate',
        ['api', '--listen', '127.0.0.1:0', '--tls-server-cert-file', good.cert, '--tls-server-key-file', good.key, '--tls-client-ca-files', good.key],
        /^Error: --tls-client-ca-files .*relay\.key: no PEM certificate in the file$/,
      ],
      [
        'observe: missing CA file',
        ['observe', '--server', 'localhost:1', '--tls-ca-cert-files', wrongCa],
        /^Error: cannot read --tls-ca-cert-files .*: no such file$/,
      ],
      [
        'status: client certificate without its key',
        ['status', '--server', 'localhost:1', '--tls-client-cert-file', good.cert],
        /^Error: --tls-client-cert-file needs --tls-client-key-file$/,
      ],
      [
        'relay: a collector server name with two wildcards',
        relay('--tls-hubble-server-name', '*.*.collector.flowscope'),
        /^Error: invalid value "\*\.\*\.collector\.flowscope" for --tls-hubble-server-name: a host name, at most one "\*"$/,
      ],
      [
        'collector: a wildcard in the relay server name',
        ['collector', '--relay', 'localhost:1', '--listen', '127.0.0.1:0', '--metrics-addr', 'none', '--tls-relay-server-name', '*.example'],
        /^Error: invalid value "\*\.example" for --tls-relay-server-name: a host name$/,
      ],
      [
        'relay: a health listen address that is not one',
        relay('--health-listen', 'nowhere'),
        /^Error: invalid value "nowhere" for --health-listen: expected \[host\]:port or "none"$/,
      ],
      ['certs: a node name that cannot be a DNS name', ['certs', '--out-dir', path.join(dir, 'certs'), '--nodes', 'a/b'], /^Error: invalid node name "a\/b"/],
    ];
    for (const [name, args, re] of cases) {
      const r = await run(args, { timeoutMs: 60_000 });
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      // A usage error adds the usage hint after a blank line; the message itself is one line.
      const lines = errorLines(r.stderr).filter((l) => !/^Run 'flowscope .*--help' for usage\.$/.test(l));
      assert.equal(lines.length, 1, `${name}: one line, got ${JSON.stringify(lines)}`);
      assert.match(lines[0], re, name);
    }
    // A flag combination that cannot work is a usage error (exit 2, with the usage hint).
    const r = await run(relay('--tls-relay-server-cert-file', good.cert), { timeoutMs: 60_000 });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^Error: --tls-relay-server-cert-file needs --tls-relay-server-key-file$/m);
    assert.equal(fs.existsSync(path.join(dir, 'chdb')), false, 'storage never opened');
  } finally {
    fx.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('relay and collector over mTLS from the command line; observe --tls reads the flows', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-tls-e2e-'));
  const tls = path.join(dir, 'tls');
  const certs = await run(['certs', '--out-dir', tls, '--nodes', 'n1', '--clients', 'cli'], { timeoutMs: 60_000 });
  assert.equal(certs.code, 0, certs.stderr);
  const f = (n: string) => path.join(tls, n);
  const port = await freePort();
  const relay = startProc([
    'relay',
    '--listen',
    `127.0.0.1:${port}`,
    '--data-dir',
    path.join(dir, 'chdb'),
    '--tls-relay-server-cert-file',
    f('relay.crt'),
    '--tls-relay-server-key-file',
    f('relay.key'),
    '--tls-relay-client-ca-files',
    f('ca.crt'),
  ]);
  const collector = startProc([
    'collector',
    '--node-name',
    'n1',
    '--count',
    '200',
    '--rate',
    '1000',
    '--relay',
    `localhost:${port}`,
    '--listen',
    '127.0.0.1:0',
    '--tls-relay-server-ca-files',
    f('ca.crt'),
    '--tls-relay-client-cert-file',
    f('node-n1.crt'),
    '--tls-relay-client-key-file',
    f('node-n1.key'),
  ]);
  const server = `localhost:${port}`;
  const withCert = ['--tls', '--tls-ca-cert-files', f('ca.crt'), '--tls-client-cert-file', f('client-cli.crt'), '--tls-client-key-file', f('client-cli.key')];
  try {
    const flows = await waitFor(
      '200 flows through the relay',
      async () => {
        const r = await run(['observe', '--server', server, ...withCert, '--last', '1000', '-o', 'jsonpb'], { timeoutMs: 30_000 });
        if (r.code !== 0) throw new Error(r.stderr);
        const n = r.stdout.split('\n').filter((l) => l.startsWith('{"flow"')).length;
        return n >= 200 ? n : undefined;
      },
      120_000,
    );
    // 200 records make at least 200 flows (a record can make more, e.g. DNS).
    assert.ok(flows >= 200);
    // The server name check: a name the relay's certificate does not carry fails the handshake.
    const badName = await run(['observe', '--server', server, ...withCert, '--tls-server-name', 'elsewhere.example', '--last', '1'], { timeoutMs: 30_000 });
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /failed to get flows from localhost:\d+: TLS with localhost:\d+ failed: .*elsewhere\.example/);
    // Without a client certificate the relay (--tls-relay-client-auth all) refuses the call.
    const anon = await run(['observe', '--server', `tls://${server}`, '--tls-ca-cert-files', f('ca.crt'), '--last', '1'], { timeoutMs: 30_000 });
    assert.equal(anon.code, 1);
    assert.match(anon.stderr, /client certificate .* is required/);
    // Plain text to a TLS relay does not work either (and never silently succeeds).
    const plain = await run(['status', '--server', server], { timeoutMs: 30_000 });
    assert.equal(plain.code, 1);

    // `flowscope certs` again: new certificates from the same CA (rotation), the CA kept.
    const before = { ca: fs.readFileSync(f('ca.crt'), 'utf8'), relay: fs.readFileSync(f('relay.crt'), 'utf8') };
    const again = await run(['certs', '--out-dir', tls, '--nodes', 'n1'], { timeoutMs: 60_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(fs.readFileSync(f('ca.crt'), 'utf8'), before.ca);
    assert.notEqual(fs.readFileSync(f('relay.crt'), 'utf8'), before.relay);
    const want = new X509Certificate(fs.readFileSync(f('relay.crt'))).fingerprint256;
    await waitFor(
      'the relay serves the rotated certificate to a new connection, without a restart',
      async () => ((await servedFingerprint(port, f)) === want ? true : undefined),
      60_000,
    );
    const status = await run(['status', '--server', server, ...withCert], { timeoutMs: 30_000 });
    assert.equal(status.code, 0, status.stderr);
  } finally {
    await collector.stop();
    assert.equal(await relay.stop(), 0, relay.output());
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('certs --namespace --cluster-name: the relay certificate names its Service, collector.crt and api.crt are issued; bad combinations exit 2', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-certs-k8s-'));
  try {
    const r = await run(['certs', '--out-dir', dir, '--namespace', 'obs', '--cluster-name', 'eu-west', '--clients', 'hubble'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const written = r.stdout
      .trim()
      .split('\n')
      .map((f) => path.basename(f));
    for (const f of ['ca.crt', 'relay.crt', 'collector.crt', 'collector.key', 'api.crt', 'api.key', 'client-hubble.crt']) assert.ok(written.includes(f), f);
    const san = (f: string) => new X509Certificate(fs.readFileSync(path.join(dir, f))).subjectAltName ?? '';
    assert.match(san('relay.crt'), /DNS:flowscope-relay\.obs\.svc,.*DNS:flowscope-relay\.obs\.svc\.cluster\.local, DNS:localhost, IP Address:127\.0\.0\.1/);
    assert.equal(san('collector.crt'), 'DNS:*.eu-west.collector.flowscope');
    assert.match(san('api.crt'), /DNS:flowscope-api\.obs\.svc\b/);
    for (const [args, message] of [
      [['--cluster-name', 'eu-west'], /--cluster-name needs --namespace/],
      [['--namespace', 'Obs_1'], /invalid value "Obs_1" for --namespace/],
      [['--namespace', 'obs', '--cluster-name', 'EU'], /invalid value "EU" for --cluster-name/],
    ] as const) {
      const bad = await run(['certs', '--out-dir', path.join(dir, 'bad'), ...args], { timeoutMs: 60_000 });
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, message);
      assert.equal(fs.existsSync(path.join(dir, 'bad')), false, 'nothing written');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
