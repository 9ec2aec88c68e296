// The HTTP API over HTTP against a real relay fed by a synthetic collector: every route, 400s
// naming the parameter (and counted), cursor paging without gap or repeat, the OpenAPI
// document (valid, every route listed), and the SSE stream (live flows, ends on client close).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import { freePort, startProc, run, waitFor, waitHealthy, type Proc } from '../../testing/harness.js';
import { buildApi } from './server.js';
import { hashToken, TokenSet } from '../../common/auth/token-file.js';
import { FILTER_FLAGS } from '../query/filter-flags.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-http-'));
let server = '';
let relay: Proc;
let collector: Proc | undefined;
let app: ReturnType<typeof buildApi>;

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await app.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.json() };
}

before(async () => {
  server = `127.0.0.1:${await freePort()}`;
  relay = startProc(['relay', '--listen', server, '--data-dir', path.join(dir, 'chdb'), '--flush-interval', '50']);
  await waitHealthy(server);
  app = buildApi({ server });
  await app.ready();
  collector = startProc(['collector', '--rate', '300', '--relay', server, '--node-name', 'http-node', '--listen', `127.0.0.1:${await freePort()}`]);
  // The paging test reads a range ending 5 s ago: wait until it holds enough, however fast or
  // slow the machine is.
  await waitFor(
    '500 flows stored more than 5 s ago',
    async () => {
      const until = new Date(Date.now() - 5000).toISOString();
      const r = await app.inject({ method: 'GET', url: `/api/v1/flows?last=500&until=${until}` });
      return r.statusCode === 200 && (r.json() as { flows: unknown[] }).flows.length >= 500 ? true : undefined;
    },
    240_000,
  );
});

after(async () => {
  await app?.close();
  await collector?.stop();
  await relay?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an API with a token file in front of a relay without one is not ready (it would hand tokens every namespace)', async () => {
  const secured = buildApi({ server, tokens: new TokenSet([{ name: 't', sha256: hashToken('fs_t'), namespaces: ['shop'] }]) });
  try {
    const r = await secured.inject({ method: 'GET', url: '/readyz' });
    assert.equal(r.statusCode, 503);
    assert.match(r.json().error, /the relay answers without a token: run it with the same --auth-token-file/);
    // The API without a token file only forwards: ready.
    assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  } finally {
    await secured.close();
  }
});

test('flows: filters as parameters, same answer as observe', async () => {
  const r = await get('/api/v1/flows?verdict=DROPPED&last=5&until=1s');
  assert.equal(r.status, 200);
  const flows = r.body.flows as Array<{ verdict: string; uuid: string }>;
  assert.equal(flows.length, 5);
  assert.ok(flows.every((f) => f.verdict === 'DROPPED'));
  const until = new Date(Date.now() - 60_000).toISOString();
  const api = (await get(`/api/v1/flows?not=true&verdict=FORWARDED&until=${until}&last=50`)).body.flows as Array<{ uuid: string }>;
  const cli = await run(['observe', '--server', server, '--not', '--verdict', 'FORWARDED', '--until', until, '--last', '50', '-o', 'jsonpb']);
  assert.deepEqual(
    api.map((f) => f.uuid),
    cli.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).flow.uuid),
  );
});

test('flows: limit + cursor pages walk back through a fixed range without gap or repeat', async () => {
  const until = new Date(Date.now() - 5000).toISOString();
  const last400 = (await get(`/api/v1/flows?until=${until}&last=400`)).body.flows as Array<{ uuid: string }>;
  assert.equal(last400.length, 400);
  const since = (last400[0] as unknown as { time: string }).time;
  // The range from the 400th-newest flow's time: flows sharing that timestamp and stored before
  // it are in the range too, so the expected walk is every flow of the range, not last400.
  const all = (await get(`/api/v1/flows?since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}&all=true`)).body.flows as Array<{ uuid: string }>;
  assert.ok(all.length >= 400, String(all.length));
  const base = `/api/v1/flows?since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}&limit=70`;
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const r = await get(cursor ? `${base}&cursor=${cursor}` : base);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    pages.push((r.body.flows as Array<{ uuid: string }>).map((f) => f.uuid));
    cursor = r.body.next_cursor as string | null;
  } while (cursor);
  assert.equal(pages.length, Math.ceil(all.length / 70));
  // desc: newest page first, each page in time order.
  assert.deepEqual(
    pages.reverse().flat(),
    all.map((f) => f.uuid),
  );
  // asc walks the same flows forward.
  const fwd: string[] = [];
  cursor = null;
  do {
    const r = await get(`${base}&order=asc${cursor ? `&cursor=${cursor}` : ''}`);
    fwd.push(...(r.body.flows as Array<{ uuid: string }>).map((f) => f.uuid));
    cursor = r.body.next_cursor as string | null;
  } while (cursor);
  assert.deepEqual(
    fwd,
    all.map((f) => f.uuid),
  );
  // A cursor is tied to its query.
  const first = await get(base);
  const other = await get(`/api/v1/flows?verdict=DROPPED&limit=70&cursor=${first.body.next_cursor}`);
  assert.equal(other.status, 400);
  assert.match(other.body.message as string, /cursor/);
});

test('bad parameters: 400 with a JSON message naming the parameter, counted', async () => {
  const cases: Array<[string, RegExp]> = [
    ['/api/v1/flows?bogus=1', /bogus/],
    ['/api/v1/flows?limit=0', /limit/],
    ['/api/v1/flows?limit=abc', /limit/],
    ['/api/v1/flows?order=sideways', /order/],
    ['/api/v1/flows?verdict=MAYBE', /verdict/],
    ['/api/v1/flows?ip=300.1.1.1', /ip/],
    ['/api/v1/flows?since=yesterdayish', /since/],
    ['/api/v1/flows?last=abc', /last/],
    ['/api/v1/flows?ipv4=perhaps', /ipv4/],
    ['/api/v1/flows?limit=5&last=5', /last/],
    ['/api/v1/flows?cursor=xyz&limit=5', /cursor/],
    ['/api/v1/flows/stream?first=5', /first/],
    ['/api/v1/service-map?limit=-3', /limit/],
    ['/api/v1/top/talkers?since=nope', /since/],
    ['/api/v1/top/drops?bogus=1', /bogus/],
    ['/api/v1/nodes?x=1', /x/],
    ['/api/v1/status?verbose=1', /verbose/],
  ];
  for (const [url, name] of cases) {
    const r = await get(url);
    assert.equal(r.status, 400, url);
    assert.equal(r.body.statusCode, 400);
    assert.match(r.body.message as string, name, `${url}: ${r.body.message}`);
  }
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const total = [...metrics.matchAll(/^flowscope_api_rejected_requests_total\{[^}]*\} (\d+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
  assert.ok(total >= cases.length, metrics);
  assert.match(metrics, /flowscope_api_rejected_requests_total\{route="\/api\/v1\/flows",reason="parameter"\} \d+/);
});

test('service map, top lists, nodes, namespaces, status', async () => {
  const map = await get('/api/v1/service-map?since=1h&limit=100');
  assert.equal(map.status, 200);
  const edges = map.body.edges as Array<{ flows: string; dropped?: string }>;
  assert.ok(edges.length > 0);
  assert.ok(edges.every((e) => /^\d+$/.test(e.flows)));
  assert.ok((await get('/api/v1/top/talkers')).body.talkers);
  assert.ok((await get('/api/v1/top/drops?since=1h')).body.reasons);
  const nodes = (await get('/api/v1/nodes')).body.nodes as Array<{ name: string; state: string }>;
  assert.ok(
    // Node names carry the cluster ("flowscope-demo/http-node"); NODE_ERROR when the collector's
    // own status call is slow on a loaded machine: still listed, not unavailable.
    nodes.some((n) => n.name.endsWith('/http-node') && n.state !== 'NODE_UNAVAILABLE'),
    JSON.stringify(nodes),
  );
  const ns = (await get('/api/v1/namespaces')).body.namespaces as Array<{ namespace: string }>;
  assert.ok(ns.length > 0);
  const status = await get('/api/v1/status');
  assert.equal((status.body.relay as { health: string }).health, 'SERVING');
  assert.match((status.body.status as { version: string }).version, /^flowscope-relay v/);
  const lost = status.body.lost_events as Record<string, number>;
  for (const source of ['perf_event_ring_buffer', 'observer_events_queue', 'hubble_ring_buffer']) assert.ok(Number.isInteger(lost[source]), source);
});

test('/openapi.json is a valid OpenAPI document listing every route with its parameters; /docs is served locally', async () => {
  const r = await app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(r.statusCode, 200);
  const doc = r.json() as { paths: Record<string, { get: { parameters?: Array<{ name: string; in: string }> } }> };
  const validator = new Validator();
  const res = await validator.validate(doc as unknown as Parameters<Validator['validate']>[0]);
  assert.ok(res.valid, JSON.stringify(res.errors, null, 1)?.slice(0, 3000));
  const routes = app
    .printRoutes({ commonPrefix: false })
    .split('\n')
    .map((l) => /(\/api\/v1\/[^ ]*|\/healthz|\/readyz|\/metrics)/.exec(l)?.[1])
    .filter((x): x is string => !!x);
  for (const p of [
    ...routes,
    '/api/v1/flows',
    '/api/v1/flows/stream',
    '/api/v1/service-map',
    '/api/v1/top/talkers',
    '/api/v1/top/drops',
    '/api/v1/nodes',
    '/api/v1/namespaces',
    '/api/v1/status',
  ])
    assert.ok(doc.paths[p]?.get, `${p} in /openapi.json`);
  const params = new Set((doc.paths['/api/v1/flows'].get.parameters ?? []).map((p) => p.name));
  for (const f of [...FILTER_FLAGS, 'limit', 'cursor', 'since', 'until', 'last', 'first', 'all']) assert.ok(params.has(f), `flows parameter ${f}`);
  let docs = await app.inject({ method: 'GET', url: '/docs' });
  for (let hops = 0; docs.statusCode === 302 && hops < 3; hops++)
    docs = await app.inject({ method: 'GET', url: new URL(docs.headers.location as string, 'http://x/docs/').pathname });
  assert.equal(docs.statusCode, 200);
  assert.match(docs.body, /swagger-ui/);
  assert.doesNotMatch(docs.body, /https?:\/\/(?!localhost)[^"' ]*\.js/, 'no script from a CDN');
  assert.equal((await app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' })).statusCode, 200);
});

test('SSE stream: live flows matching the filters, and the relay call ends when the client closes', async () => {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const ac = new AbortController();
  const res = await fetch(`${url}/api/v1/flows/stream?verdict=FORWARDED&node-name=http-node`, { signal: ac.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const reader = res.body!.getReader();
  const startedMs = Date.now();
  let text = '';
  const flows: Array<{ verdict: string; time: string }> = [];
  while (flows.length < 20) {
    const { value, done } = await reader.read();
    assert.ok(!done, 'stream ended early');
    text += Buffer.from(value).toString();
    let i;
    while ((i = text.indexOf('\n\n')) >= 0) {
      const ev = text.slice(0, i);
      text = text.slice(i + 2);
      const data = /^event: flow\ndata: (.*)$/m.exec(ev);
      if (data) flows.push(JSON.parse(data[1]));
    }
  }
  assert.ok(flows.every((f) => f.verdict === 'FORWARDED'));
  // Live: flows stamped after the stream opened (no since/last, so no history).
  assert.ok(flows.every((f) => Date.parse(f.time) >= startedMs - 5000));
  const gauge = async () => Number(/^flowscope_api_open_streams (\d+)$/m.exec((await app.inject({ method: 'GET', url: '/metrics' })).body)?.[1]);
  assert.equal(await gauge(), 1);
  ac.abort();
  await reader.cancel().catch(() => {});
  await waitFor('stream closed on the server', async () => ((await gauge()) === 0 ? true : undefined));
});
