// Hostile query strings on every route of the HTTP API, sent over HTTP only (the routes are
// walked by URL, so this holds whatever the routes are built with): very long values, repeated
// parameters, unicode, NUL, SQL-ish strings, bad numbers, huge limits, odd names. Each answer is
// JSON, 200 or a 400 whose message names the parameter; nothing is a 5xx; every answer is counted
// in /metrics; the API and the relay behind it still answer afterwards, with memory back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Relay } from '../../relay/relay.js';
import { MemoryRelayStore } from '../../testing/memory-relay-store.js';
import { createLogger } from '../../common/logger.js';
import { rng } from '../../testing/gen-flows.js';
import { FILTER_FLAGS } from '../query/filter-flags.js';
import { buildApi } from './server.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const FLOW_PARAMS = ['last', 'first', 'all', 'since', 'until', ...FILTER_FLAGS];
const INSIGHTS_PARAMS = ['since', 'until', 'namespace', 'limit'];
/** Every route, with the parameters it takes (hostile values go to those and to others). */
const ROUTES: Array<{ path: string; params: string[]; json: boolean }> = [
  { path: '/api/v1/flows', params: FLOW_PARAMS, json: true },
  { path: '/api/v1/service-map', params: INSIGHTS_PARAMS, json: true },
  { path: '/api/v1/top/talkers', params: INSIGHTS_PARAMS, json: true },
  { path: '/api/v1/top/drops', params: INSIGHTS_PARAMS, json: true },
  { path: '/healthz', params: [], json: true },
  { path: '/readyz', params: [], json: true },
  { path: '/metrics', params: [], json: false },
];

const HOSTILE_VALUES = [
  '',
  'x'.repeat(8000),
  '\u0000',
  'a\u0000b',
  "' OR 1=1 --",
  '1); DROP TABLE flows; --',
  '{last:UInt64}',
  '%',
  '%%41',
  '🦀🦀',
  '\u202edecrof',
  'e\u0301\u0301\u0301',
  '\uFFFF',
  '-1',
  '0',
  '1e309',
  'NaN',
  'Infinity',
  '0x10',
  '1.5',
  '99999999999999999999999',
  '18446744073709551616',
  '1000000000',
  '-9223372036854775809',
  '2026-13-45T99:99:99Z',
  '9999-12-31T23:59:59Z',
  '1h',
  '-5m',
  'true',
  '[]',
  '{"$gt":""}',
  '__proto__',
  '../../etc/passwd',
  '10.0.0.0/33',
  'default/',
  '*',
];
const ODD_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'x'.repeat(3000), 'ä', '', 'last[]', 'limit%00', 'LIMIT'];

function hostileQuery(route: { params: string[] }, rand: () => number): { query: string; keys: Set<string> } {
  const pick = <T>(a: readonly T[]) => a[Math.floor(rand() * a.length)];
  const parts: Array<[string, string]> = [];
  const keys = new Set<string>();
  const n = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < n; i++) {
    const key = route.params.length > 0 && rand() < 0.85 ? pick(route.params) : pick(ODD_NAMES);
    const value = pick(HOSTILE_VALUES);
    // Repeated parameter: the same key many times.
    const times = rand() < 0.15 ? 2 + Math.floor(rand() * 60) : 1;
    for (let k = 0; k < times; k++) parts.push([key, value]);
    keys.add(key);
  }
  return { query: parts.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'), keys };
}

async function clientErrorCount(base: string): Promise<number> {
  return Number(/^flowscope_api_client_errors_total (\d+)$/m.exec(await (await fetch(`${base}/metrics`)).text())?.[1]);
}

async function metricSum(base: string, name: string, match: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) && line.includes(match)) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  return n;
}

test('hostile query strings on every HTTP route: JSON 200 or a 400 naming the parameter, never a 5xx, all counted', { timeout: 180_000 }, async (t) => {
  const relay = new Relay(new MemoryRelayStore(), { listen: '127.0.0.1:0', nodeName: 'relay' }, createLogger('test', 'silent'));
  await relay.start();
  const app = buildApi({ server: `127.0.0.1:${relay.port}` });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  try {
    // Every listed route exists (a route renamed or removed must be noticed here).
    for (const r of ROUTES) assert.notEqual((await fetch(`${base}${r.path}`)).status, 404, r.path);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const rand = rng(Number(process.env.FUZZ_SEED ?? 20261209));
    const seen: Record<string, number> = {};
    const refusedBefore = await metricSum(base, 'flowscope_api_requests_total', 'code="400"');
    let refused = 0;
    let tooLarge = 0;
    const clientErrorsBefore = await clientErrorCount(base);
    const N = 1400;
    const unnamed: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < N) {
          const route = ROUTES[next++ % ROUTES.length];
          const { query, keys } = hostileQuery(route, rand);
          const res = await fetch(`${base}${route.path}?${query}`);
          const body = await res.text();
          seen[res.status] = (seen[res.status] ?? 0) + 1;
          const what = `${route.path}?${query.slice(0, 300)} → ${res.status} ${body.slice(0, 300)}`;
          assert.ok(res.status < 500 || (route.path === '/readyz' && res.status === 503), what);
          if (route.json || res.status !== 200) assert.doesNotThrow(() => JSON.parse(body), what);
          if (res.status === 400) {
            refused++;
            const msg = (JSON.parse(body) as { message?: unknown }).message;
            assert.equal(typeof msg, 'string', what);
            // One parameter name in the request: the message says which.
            if (keys.size === 1) {
              const [k] = keys;
              if (!(msg as string).includes(k)) unnamed.push(what);
            }
          } else if (res.status === 431)
            tooLarge++; // a request line over Node's header limit (repeated long names)
          else assert.ok(res.status === 200 || res.status === 503, what);
        }
      }),
    );
    t.diagnostic(`statuses: ${JSON.stringify(seen)}`);
    assert.deepEqual(unnamed, [], 'every refusal of a one-parameter request names it');
    assert.ok(refused > N / 4 && (seen[200] ?? 0) > N / 10, 'both answers and refusals seen');

    // A request line larger than Node's header limit is refused before routing, and counted.
    const huge = await fetch(`${base}/api/v1/flows?pod=${'y'.repeat(70_000)}`);
    assert.equal(huge.status, 431);
    assert.equal(await metricSum(base, 'flowscope_api_requests_total', 'code="400"'), refusedBefore + refused, 'every 400 counted');
    assert.equal((await clientErrorCount(base)) - clientErrorsBefore, tooLarge + 1, 'the parser-level refusals counted');

    // Still answering, relay included.
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const ok = await fetch(`${base}/api/v1/flows?last=5&pod=default/web`);
    assert.equal(ok.status, 200, await ok.text());
    gc();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    t.diagnostic(`heap after the fuzz and GC: ${(grown / 2 ** 20).toFixed(1)} MiB over the start`);
    assert.ok(grown < 64 * 2 ** 20, `heap grew ${grown} bytes`);
  } finally {
    await app.close();
    await relay.stop();
  }
});
