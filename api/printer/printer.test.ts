import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatResponses } from './printer.js';
import type { OutputFormat } from './printer.js';
import { loadResponses, readTestdata } from '../../testing/printer-fixtures.js';

// Golden outputs of the official hubble CLI (printer-examples.md), colours off, UTC.
for (const output of ['compact', 'dict', 'table'] as OutputFormat[]) {
  test(`reference examples: -o ${output}`, () => {
    const { stdout, stderr } = formatResponses(loadResponses('reference.jsonl'), { output, timeZone: 'UTC' });
    assert.equal(stdout, readTestdata(`reference.${output}.txt`));
    assert.equal(stderr, '');
  });
}

// Shapes the reference does not show, derived from hubble's printer source: replies, IPv6,
// reserved identities, services, DNS/HTTP L7, ICMP with DNS names, policy verdict audit with
// auth, trace-sock, Ethernet-only flows with terminal escapes, lost events, node status
// events, unknown drop codes, capture events; json/jsonpb HTML escaping.
const SHAPES: Array<[string, OutputFormat, Record<string, boolean>]> = [
  ['compact', 'compact', {}],
  ['dict', 'dict', {}],
  ['table', 'table', {}],
  ['jsonpb', 'jsonpb', {}],
  ['json', 'json', {}],
  ['compact-node', 'compact', { nodeName: true }],
  ['table-node', 'table', { nodeName: true }],
  ['dict-node', 'dict', { nodeName: true }],
  ['compact-debug', 'compact', { debug: true }],
  ['dict-debug', 'dict', { debug: true }],
];
for (const [name, output, extra] of SHAPES) {
  test(`derived shapes: ${name}`, () => {
    const { stdout, stderr } = formatResponses(loadResponses('shapes.jsonl'), { output, timeZone: 'UTC', ...extra });
    assert.equal(stdout, readTestdata(`shapes.${name}.stdout.txt`));
    assert.equal(stderr, readTestdata(`shapes.${name}.stderr.txt`));
  });
}

test('time zone and layout are applied', () => {
  const [res] = loadResponses('reference.jsonl');
  const one = (o: Partial<Parameters<typeof formatResponses>[1]>) => formatResponses([res], { output: 'dict', ...o }).stdout.split('\n')[0];
  assert.equal(one({ timeZone: 'Asia/Tokyo' }), '  TIMESTAMP: Jul 31 19:41:02.202');
  assert.equal(one({ timeZone: 'America/New_York', timeLayout: '2006-01-02T15:04:05.999999999Z07:00' }), '  TIMESTAMP: 2026-07-31T06:41:02.202450754-04:00');
  assert.equal(one({ timeZone: 'UTC', timeLayout: '2006-01-02T15:04:05Z07:00' }), '  TIMESTAMP: 2026-07-31T10:41:02Z');
  assert.equal(one({ timeZone: 'UTC', timeLayout: 'Mon, 02 Jan 2006 15:04:05 -0700' }), '  TIMESTAMP: Fri, 31 Jul 2026 10:41:02 +0000');
  assert.equal(one({ timeZone: 'UTC', timeLayout: '2006-01-02T15Z07:00' }), '  TIMESTAMP: 2026-07-31T10Z');
});

test('colours wrap hosts, ports, identities and verdicts; tables never colour', () => {
  const [, drop] = loadResponses('reference.jsonl');
  const coloured = formatResponses([drop], { output: 'compact', timeZone: 'UTC', color: true }).stdout;
  assert.equal(
    coloured,
    'Jan  1 00:20:34.567: \x1b[36m1.1.1.1:\x1b[33m31793\x1b[0m\x1b[0m \x1b[35m(health)\x1b[0m -> \x1b[36m2.2.2.2:\x1b[33m8080\x1b[0m\x1b[0m \x1b[35m(ID:12345)\x1b[0m Policy denied \x1b[31mDROPPED\x1b[0m (TCP Flags: SYN)\n',
  );
  assert.equal(formatResponses([drop], { output: 'table', timeZone: 'UTC', color: true }).stdout.includes('\x1b'), false);
});

test('policy names are appended with --print-policy-names', () => {
  const [pv] = loadResponses('reference.jsonl');
  const out = formatResponses([pv], { output: 'compact', timeZone: 'UTC', policyNames: true }).stdout;
  assert.match(out, / policy-verdict:L3-Only EGRESS DENIED BY deny-tg-to-echo \(CiliumNetworkPolicy\) \(TCP Flags: SYN\)\n$/);
});

test('--numeric (no IP translation) prints addresses', () => {
  const [, , fwd] = loadResponses('reference.jsonl');
  assert.equal(
    formatResponses([fwd], { output: 'compact', timeZone: 'UTC', ipTranslation: false }).stdout,
    'Nov 22 10:00:00.123: 10.244.1.5:40123 (ID:5123) -> 10.96.0.10:53 (ID:102) to-endpoint FORWARDED (UDP)\n',
  );
});
