// The collector's --redact-* flags: bad combinations and patterns exit 2 with the usage hint, and
// the environment variables give the same settings as the flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../testing/harness.js';
import { buildProgram } from './main.js';
import { redactionFromFlags, redactionEnv, type RedactFlags } from './redact-flags.js';

test('collector: bad --redact-* usage exits 2 with a message naming the flag', async () => {
  for (const [args, message] of [
    [['--redact-http-urlquery'], /--redact-\* flags need --redact-enabled/],
    [
      ['--redact-enabled', '--redact-http-headers-allow', 'a', '--redact-http-headers-deny', 'b'],
      /only one of --redact-http-headers-allow and --redact-http-headers-deny/,
    ],
    [['--redact-enabled', '--redact-dns-query', 'bad!pattern'], /invalid rune/],
    [['--redact-enabled', '--redact-dns-query', '/(?<n>x)/'], /redact-dns-query/],
  ] as const) {
    const r = await run(['collector', '--relay', 'none', '--listen', '127.0.0.1:0', '--metrics-addr', 'none', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /flowscope collector --help/);
  }
});

async function parse(args: string[], env: Record<string, string> = {}): Promise<RedactFlags> {
  const program = buildProgram();
  const cmd = program.commands.find((c) => c.name() === 'collector')!;
  let opts: RedactFlags | undefined;
  cmd.action((o: RedactFlags) => {
    opts = o;
  });
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    await program.parseAsync(['node', 'flowscope', 'collector', ...args]);
  } finally {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
  }
  return opts!;
}

test('redaction flags and their environment variables give the same settings', async () => {
  const flags = await parse([
    '--redact-enabled',
    '--redact-http-urlquery',
    '--redact-kafka-apikey',
    '--redact-http-headers-deny',
    'Authorization,cookie',
    '--redact-http-headers-deny',
    'x-api-key',
    '--redact-dns-query',
    '*.corp.example.com',
    '--redact-dns-query',
    '/^vault\\./',
  ]);
  const r = redactionFromFlags(flags)!;
  assert.deepEqual(r, {
    httpUrlQuery: true,
    httpUserInfo: false,
    kafkaApiKey: true,
    httpHeadersAllow: [],
    httpHeadersDeny: ['Authorization', 'cookie', 'x-api-key'],
    dnsQuery: ['*.corp.example.com', '/^vault\\./'],
  });
  assert.deepEqual(redactionFromFlags(await parse([], redactionEnv(r))), r);
  assert.equal(redactionFromFlags(await parse([])), null);
});
