// `why`'s question from flags / query parameters, and the observe commands of its report: each
// command, parsed back as `observe` parses it, selects exactly the pair that was asked about.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { whyRequest, WHY_FILTER_FLAGS } from './why-selection.js';
import { buildFilters, type FilterFlag } from './filter-flags.js';
import { UsageError } from './usage-error.js';
import { observeCommand } from '../../relay/why-report.js';
import { swapSides } from '../../filters/sides.js';
import { whyRequestFromQuery } from '../http/why-route.js';

const NOW = Date.parse('2026-12-06T12:00:00Z');

/** Splits a command the way a POSIX shell would for the quoting observeCommand uses. */
function shellWords(cmd: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (const m of cmd.matchAll(re)) out.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]);
  return out;
}

function flagsOf(argv: string[]): FilterFlag[] {
  const out: FilterFlag[] = [];
  for (let i = 2; i < argv.length; i += 2) {
    const flag = argv[i].replace(/^--/, '');
    if (flag === 'since' || flag === 'until' || flag === 'verdict' || flag === 'tcp-flags') continue;
    out.push({ flag, value: argv[i + 1] });
  }
  return out;
}

test('the flags become one from/to FlowFilter, namespaces folded in as observe folds them', () => {
  const req = whyRequest(
    {
      filters: [
        { flag: 'from-namespace', value: 'shop' },
        { flag: 'from-workload', value: 'frontend' },
        { flag: 'to-service', value: 'shop/cart' },
        { flag: 'to-port', value: '8080' },
      ],
      since: '30m',
    },
    NOW,
  );
  assert.deepEqual(req.pair, {
    source_pod: ['shop/'],
    source_workload: [{ name: 'frontend' }],
    destination_service: ['shop/cart'],
    destination_port: ['8080'],
  });
  assert.deepEqual(req.since, { seconds: NOW / 1000 - 1800, nanos: 0 });
  assert.equal(req.until, undefined);
});

test('bad questions are usage errors naming the flag', () => {
  const cases: Array<[FilterFlag[], Record<string, string>, RegExp]> = [
    [[{ flag: 'to-pod', value: 'a/b' }], {}, /the source is missing/],
    [[{ flag: 'from-pod', value: 'a/b' }], {}, /the destination is missing/],
    [
      [
        { flag: 'from-pod', value: 'a/b' },
        { flag: 'to-port', value: '80' },
      ],
      {},
      /the destination is missing/,
    ],
    [
      [
        { flag: 'from-pod', value: 'a/b' },
        { flag: 'verdict', value: 'DROPPED' },
      ],
      {},
      /--verdict cannot be used with why/,
    ],
    [
      [
        { flag: 'from-pod', value: 'a/b' },
        { flag: 'to-ip', value: 'x' },
      ],
      {},
      /--to-ip/,
    ],
    [
      [
        { flag: 'from-pod', value: 'a/b' },
        { flag: 'to-port', value: '65536' },
      ],
      {},
      /--to-port/,
    ],
    [
      [
        { flag: 'from-pod', value: 'a/b' },
        { flag: 'to-pod', value: 'c/d' },
      ],
      { since: 'soon' },
      /--since/,
    ],
    [
      [
        { flag: 'from-pod', value: 'a/b' },
        { flag: 'to-pod', value: 'c/d' },
      ],
      { since: '1h', until: '2h' },
      /--since must be before --until/,
    ],
    [
      [
        { flag: 'from-pod', value: 'a/b' },
        { flag: 'to-pod', value: 'c/d' },
      ],
      { limit: '0' },
      /--limit/,
    ],
    [
      [
        { flag: 'from-pod', value: 'a/b' },
        { flag: 'to-pod', value: 'c/d' },
      ],
      { limit: '201' },
      /--limit/,
    ],
  ];
  for (const [filters, rest, re] of cases)
    assert.throws(
      () => whyRequest({ filters, ...rest }, NOW),
      (e: Error) => e instanceof UsageError && re.test(e.message),
      `${JSON.stringify(filters)} ${JSON.stringify(rest)}`,
    );
});

test("the report's observe commands select the pair asked about, both ways", () => {
  const questions: FilterFlag[][] = [
    [
      { flag: 'from-pod', value: 'shop/frontend-abc' },
      { flag: 'to-pod', value: "shop/it's a pod" },
      { flag: 'to-port', value: '7070' },
    ],
    [
      { flag: 'from-namespace', value: 'shop' },
      { flag: 'from-workload', value: 'Deployment/frontend' },
      { flag: 'to-label', value: 'app in (a, b)' },
      { flag: 'protocol', value: 'tcp' },
    ],
    [
      { flag: 'from-ip', value: '10.0.0.0/8' },
      { flag: 'to-fqdn', value: '*.example.com' },
      { flag: 'to-identity', value: 'world' },
    ],
    [
      { flag: 'from-service', value: 'shop/web' },
      { flag: 'from-cluster', value: 'east' },
      { flag: 'to-workload', value: 'db' },
      { flag: 'to-namespace', value: 'data' },
      { flag: 'to-namespace', value: 'data2' },
    ],
  ];
  for (const filters of questions) {
    const { pair } = whyRequest({ filters }, NOW);
    const range = { sinceNs: BigInt(NOW - 3600_000) * 1_000_000n, untilNs: BigInt(NOW) * 1_000_000n };
    const fwd = buildFilters(flagsOf(shellWords(observeCommand(pair!, range, 'fwd', ['--verdict', 'DROPPED'])))).whitelist;
    assert.deepEqual(fwd, [pair], JSON.stringify(filters));
    const rev = buildFilters(flagsOf(shellWords(observeCommand(pair!, range, 'rev', ['--tcp-flags', 'RST'])))).whitelist;
    assert.deepEqual(rev, [swapSides(pair!)], JSON.stringify(filters));
  }
});

test('HTTP query parameters: the same names, filters repeatable, the rest once', () => {
  const q = new URLSearchParams([
    ['from-pod', 'shop/frontend-abc'],
    ['to-namespace', 'shop'],
    ['to-workload', 'cart'],
    ['to-port', '7070'],
    ['since', '15m'],
    ['limit', '5'],
  ]);
  const req = whyRequestFromQuery(q, NOW);
  assert.deepEqual(req.pair, {
    source_pod: ['shop/frontend-abc'],
    destination_pod: ['shop/'],
    destination_workload: [{ name: 'cart' }],
    destination_port: ['7070'],
  });
  assert.equal(req.limit, 5);
  assert.throws(() => whyRequestFromQuery(new URLSearchParams('from-pod=a/b&to-pod=c/d&since=1h&since=2h'), NOW), /"since" given more than once/);
  assert.throws(() => whyRequestFromQuery(new URLSearchParams('from-pod=a/b&to-pod=c/d&verdict=DROPPED'), NOW), /unknown query parameter "verdict"/);
  for (const f of WHY_FILTER_FLAGS) assert.ok(!f.startsWith('-'));
});
