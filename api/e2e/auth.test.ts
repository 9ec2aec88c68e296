// Tokens end to end, as an operator runs them: a relay with --auth-token-file and the flows of a
// synthetic collector in several namespaces, the HTTP API in front of it (one with the token
// file, one that only forwards), and the CLI. Every relay gRPC method and every /api/v1 route is
// asked without a token, with a wrong one, with a token for `shop` only, with an all-namespaces
// token and, where a request can name namespaces, about namespaces outside `shop`. The methods
// and routes are enumerated from the services' definitions and the OpenAPI document, so one
// added later without a case here fails this test. No token may appear in any log line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { freePort, metricValue, run, shipSyntheticRecords, startProc, startTestRelay, waitFor, type Proc } from '../../testing/harness.js';
import { InsightsService, ObserverService, RelayStatusService } from '../../common/grpc-services.js';
import { addToken } from '../../common/auth/token-file.js';
import { buildApi } from '../http/server.js';
import type { Flow, FlowFilter } from '../../proto/types.js';
import type { FastifyInstance } from 'fastify';
import { IngestClient } from '../../common/grpc-services.js';
import { encodeFlowBlock, FlowBlockWriter } from '../../schema/native/flow-block.js';
import { genFlows } from '../../testing/gen-flows.js';
import type { IngestAck, IngestMessage } from '../../proto/types.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-auth-'));
const tokenFile = path.join(dir, 'tokens.yaml');
const SHOP = 'shop';
let shopToken = '';
let adminToken = '';
const wrongToken = 'fs_not-a-token-of-this-file-0123456789abcdefghij';
let server = '';
let relay: Proc;
let api: Proc;
let apiUrl = '';
let relayMetrics = '';
/** An API that only forwards the caller's token (no token file of its own). */
let forwarding: FastifyInstance;
/** Every stored flow, read with the all-namespaces token. */
let all: Flow[] = [];
const inShop = (f: { source?: { namespace?: string }; destination?: { namespace?: string } }) =>
  f.source?.namespace === SHOP || f.destination?.namespace === SHOP;

const sinceHour = () => ({ seconds: Math.floor(Date.now() / 1000) - 3600, nanos: 0 });

const metric = metricValue;

// ---- gRPC: any method of the three guarded services, by name ----

type Service = typeof ObserverService | typeof InsightsService | typeof RelayStatusService;
const SERVICES: Record<string, Service> = { Observer: ObserverService, Insights: InsightsService, RelayStatus: RelayStatusService };

interface Answer {
  code: grpc.status;
  details: string;
  /** The unary answer, or every message of a stream. */
  value?: Record<string, unknown>;
  messages: Array<Record<string, unknown>>;
}

function client(service: Service): grpc.Client {
  const Ctor = grpc.makeGenericClientConstructor(service, 'x');
  return new Ctor(server, grpc.credentials.createInsecure());
}

/** Calls a method with `token` (none when undefined); a stream is read to its end or `max` messages. */
async function call(service: Service, method: string, req: object, token: string | undefined, max = Infinity): Promise<Answer> {
  const c = client(service);
  const md = new grpc.Metadata();
  if (token !== undefined) md.set('authorization', `Bearer ${token}`);
  const def = (service as Record<string, grpc.MethodDefinition<object, object>>)[method];
  const fn = (c as unknown as Record<string, (...a: unknown[]) => unknown>)[method].bind(c);
  try {
    if (!def.responseStream) {
      return await new Promise<Answer>((resolve) =>
        fn(req, md, { deadline: Date.now() + 60_000 }, (err: grpc.ServiceError | null, res: Record<string, unknown>) =>
          resolve(err ? { code: err.code, details: err.details, messages: [] } : { code: grpc.status.OK, details: '', value: res, messages: [] }),
        ),
      );
    }
    const stream = fn(req, md) as grpc.ClientReadableStream<Record<string, unknown>>;
    const messages: Array<Record<string, unknown>> = [];
    return await new Promise<Answer>((resolve) => {
      stream.on('data', (m: Record<string, unknown>) => {
        messages.push(m);
        if (messages.length >= max) stream.cancel();
      });
      stream.on('error', (err: grpc.ServiceError) =>
        resolve({ code: err.code === grpc.status.CANCELLED && messages.length >= max ? grpc.status.OK : err.code, details: err.details, messages }),
      );
      stream.on('end', () => resolve({ code: grpc.status.OK, details: '', messages }));
    });
  } finally {
    c.close();
  }
}

const flowsOf = (a: Answer) => a.messages.filter((m) => m.flow).map((m) => m.flow as Flow);
const uuids = (fs: Flow[]) => fs.map((f) => f.uuid).sort();

before(async () => {
  shopToken = addToken(tokenFile, 'shop-team', [SHOP]);
  adminToken = addToken(tokenFile, 'admin', ['*']);
  const relayMetricsPort = await freePort();
  relayMetrics = `http://127.0.0.1:${relayMetricsPort}/metrics`;
  ({ server, relay } = await startTestRelay(path.join(dir, 'chdb'), ['--auth-token-file', tokenFile, '--metrics-addr', `127.0.0.1:${relayMetricsPort}`], {
    FLOWSCOPE_LOG_LEVEL: 'debug',
  }));
  const records = 1500;
  await shipSyntheticRecords(server, records);
  // Every synthetic namespace talks to shop; these two never do, so a scoped answer must lack them.
  await pushOutsideFlows(60);
  all = flowsOf(await call(ObserverService, 'GetFlows', { number: 1e9 }, adminToken));
  assert.ok(all.length >= records + 60, `${all.length} flows stored`);
  assert.ok(all.some(inShop) && all.some((f) => !inShop(f)), 'flows inside and outside shop');
  assert.ok(
    all.some((f) => f.source?.namespace === 'payments'),
    'the pushed flows are stored',
  );

  const apiPort = await freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  api = startProc(['api', '--listen', `127.0.0.1:${apiPort}`, '--server', server, '--auth-token-file', tokenFile], { FLOWSCOPE_LOG_LEVEL: 'debug' });
  await waitFor('the API to answer', async () => ((await fetch(`${apiUrl}/healthz`).catch(() => null))?.ok ? true : undefined), 60_000);
  forwarding = buildApi({ server });
  await forwarding.ready();
});

const PUSHED_NAMESPACES = ['payments', 'web'];

/** Pushes flows between `payments` and `web` through the relay's ingest, as a collector would. */
async function pushOutsideFlows(n: number): Promise<void> {
  const flows = genFlows(n, 11, Math.floor(Date.now() / 1000) - 120).map((f, i) => ({
    ...f,
    source: { ...f.source, namespace: i % 2 ? 'payments' : 'web', pod_name: `p-${i}` },
    destination: { ...f.destination, namespace: i % 2 ? 'web' : 'payments', pod_name: `q-${i}` },
  }));
  const c = new IngestClient(server, grpc.credentials.createInsecure());
  const push = (c as unknown as { Push(): grpc.ClientDuplexStream<IngestMessage, IngestAck> }).Push();
  try {
    await new Promise<void>((resolve, reject) => {
      push.on('data', (a: IngestAck) => {
        if ((a.durable_seq ?? 0) >= 1) resolve();
      });
      push.on('error', reject);
      push.write({ hello: { node_name: 'outside-node', session_id: 'outside-session' } });
      push.write({ batch: { seq: 1, block: encodeFlowBlock(new FlowBlockWriter(), flows) } });
    });
  } finally {
    push.end();
    c.close();
  }
}

after(async () => {
  await forwarding?.close();
  await api?.stop();
  await relay?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

// ---- what each relay method must do; a method missing here fails the enumeration test ----

interface MethodCase {
  req: () => object;
  /** Checks the shop token's answer (scoped) and the admin token's (everything). */
  scoped(shop: Answer, admin: Answer): void;
  /** A request naming only namespaces outside shop: PERMISSION_DENIED for the shop token. */
  outside?: () => object;
}

/** A pair of endpoints outside shop that talk, by IP (no namespace named). */
function outsidePair(): FlowFilter {
  // From the synthetic cluster's flows (the pushed ones are of every event type; why counts trace and drop events).
  const synthetic = (ns: string | undefined) => !!ns && !PUSHED_NAMESPACES.includes(ns);
  const f = all.find((x) => !inShop(x) && x.IP?.source && x.IP?.destination && synthetic(x.source?.namespace) && synthetic(x.destination?.namespace));
  assert.ok(f, 'a flow between two namespaces other than shop');
  return { source_ip: [f.IP!.source!], destination_ip: [f.IP!.destination!] };
}

const insightsReq = () => ({ since: sinceHour(), limit: 100_000 });
const METHODS: Record<string, MethodCase> = {
  'Observer/GetFlows': {
    req: () => ({ number: 1e9 }),
    scoped(shop, admin) {
      const want = all.filter(inShop);
      assert.deepEqual(uuids(flowsOf(shop)), uuids(want), 'the shop token sees exactly the flows with shop on one side');
      assert.ok(
        flowsOf(shop).some((f) => f.source?.namespace !== f.destination?.namespace),
        'including flows whose other side is another namespace',
      );
      assert.equal(flowsOf(admin).length, all.length);
    },
    outside: () => ({ number: 10, whitelist: [{ source_pod: ['monitoring/'] }, { destination_pod: ['kube-system/'] }] }),
  },
  'Observer/GetNamespaces': {
    req: () => ({}),
    scoped(shop, admin) {
      // Distinct names: a namespace is listed once per cluster it was seen in.
      const names = (a: Answer) => [...new Set(((a.value!.namespaces ?? []) as Array<{ namespace: string }>).map((n) => n.namespace))].sort();
      const want = [...new Set(all.filter(inShop).flatMap((f) => [f.source?.namespace ?? '', f.destination?.namespace ?? '']))].filter(Boolean).sort();
      assert.deepEqual(names(shop), want, 'shop and the namespaces it talks with');
      const everything = [...new Set(all.flatMap((f) => [f.source?.namespace ?? '', f.destination?.namespace ?? '']))].filter(Boolean).sort();
      assert.deepEqual(names(admin), everything);
      assert.ok(everything.includes('payments') && !names(shop).includes('payments'), 'payments never talks to shop');
    },
  },
  'Observer/ServerStatus': {
    req: () => ({}),
    scoped(shop, admin) {
      // Cluster-wide flow counts: refused to a scoped token (README, Authentication).
      assert.equal(shop.code, grpc.status.PERMISSION_DENIED);
      assert.equal(admin.code, grpc.status.OK);
      assert.match(String(admin.value!.version), /flowscope-relay/);
    },
  },
  'Observer/GetNodes': {
    req: () => ({}),
    scoped(shop, admin) {
      const nodes = (a: Answer) => (a.value!.nodes ?? []) as Array<Record<string, unknown>>;
      assert.ok(nodes(shop).length > 0 && nodes(shop).length === nodes(admin).length);
      for (const n of nodes(shop)) for (const k of ['num_flows', 'max_flows', 'seen_flows']) assert.ok(!n[k], `no ${k} for a scoped token`);
    },
  },
  'Observer/GetAgentEvents': {
    req: () => ({}),
    scoped(shop, admin) {
      for (const a of [shop, admin]) assert.equal(a.code, grpc.status.UNIMPLEMENTED);
    },
  },
  'Observer/GetDebugEvents': {
    req: () => ({}),
    scoped(shop, admin) {
      for (const a of [shop, admin]) assert.equal(a.code, grpc.status.UNIMPLEMENTED);
    },
  },
  'Insights/ServiceMap': {
    req: insightsReq,
    scoped(shop, admin) {
      const edges = (a: Answer) => (a.value!.edges ?? []) as Array<{ source_namespace: string; destination_namespace: string; flows: number }>;
      assert.ok(edges(shop).length > 0);
      for (const e of edges(shop))
        assert.ok(inShop({ source: { namespace: e.source_namespace }, destination: { namespace: e.destination_namespace } }), JSON.stringify(e));
      const sum = (es: Array<{ flows: number }>) => es.reduce((s, e) => s + Number(e.flows), 0);
      assert.equal(sum(edges(shop)), all.filter(inShop).length);
      assert.equal(sum(edges(admin)), all.length);
      assert.deepEqual(
        edges(admin).filter((e) => inShop({ source: { namespace: e.source_namespace }, destination: { namespace: e.destination_namespace } })),
        edges(shop),
        'the shop edges are the admin edges with shop on one side',
      );
    },
    outside: () => ({ ...insightsReq(), namespace: 'monitoring' }),
  },
  'Insights/TopTalkers': {
    req: insightsReq,
    scoped(shop, admin) {
      const sum = (a: Answer) => ((a.value!.talkers ?? []) as Array<{ flows: number }>).reduce((s, t) => s + Number(t.flows), 0);
      assert.equal(sum(shop), all.filter(inShop).length, 'talkers add up to the flows with shop on one side');
      assert.equal(sum(admin), all.length);
    },
    outside: () => ({ ...insightsReq(), namespace: 'kube-system' }),
  },
  'Insights/TopDropReasons': {
    req: insightsReq,
    scoped(shop, admin) {
      const rows = (a: Answer) => (a.value!.reasons ?? []) as Array<{ source_namespace: string; destination_namespace: string; flows: number }>;
      for (const r of rows(shop))
        assert.ok(inShop({ source: { namespace: r.source_namespace }, destination: { namespace: r.destination_namespace } }), JSON.stringify(r));
      const dropped = (fs: Flow[]) => fs.filter((f) => (f.verdict as unknown) === 2).length;
      const sum = (a: Answer) => rows(a).reduce((s, r) => s + Number(r.flows), 0);
      assert.equal(sum(shop), dropped(all.filter(inShop)));
      assert.equal(sum(admin), dropped(all));
      assert.ok(sum(admin) > sum(shop), 'drops outside shop exist and are not shown to shop');
    },
    outside: () => ({ ...insightsReq(), namespace: 'monitoring' }),
  },
  'Insights/Why': {
    // Two endpoints outside shop named by IP: the shop token is answered, from no flow at all.
    req: () => ({ pair: outsidePair(), since: sinceHour() }),
    scoped(shop, admin) {
      const fwd = (a: Answer) => Number(((a.value!.forward ?? {}) as { flows?: number }).flows ?? 0);
      assert.equal(admin.code, grpc.status.OK);
      assert.ok(fwd(admin) > 0, 'the admin sees the pair talk');
      assert.equal(shop.code, grpc.status.OK);
      assert.equal(fwd(shop), 0, 'the shop token sees none of it');
      assert.equal(Number(((shop.value!.reverse ?? {}) as { flows?: number }).flows ?? 0), 0);
    },
    outside: () => ({ pair: { source_pod: ['monitoring/'], destination_pod: ['kube-system/'] }, since: sinceHour() }),
  },
  'RelayStatus/LostEvents': {
    req: () => ({}),
    scoped(shop, admin) {
      assert.equal(shop.code, grpc.status.OK);
      assert.deepEqual(shop.value, admin.value);
    },
  },
};

test('every method of the guarded services has a case here', () => {
  const defined = Object.entries(SERVICES).flatMap(([s, def]) => Object.keys(def).map((m) => `${s}/${m}`));
  assert.deepEqual(defined.sort(), Object.keys(METHODS).sort());
});

test('gRPC: no token and a wrong token are UNAUTHENTICATED, with nothing but a generic message', async () => {
  const before = await (await fetch(relayMetrics)).text();
  for (const [name, c] of Object.entries(METHODS)) {
    const [svc, method] = name.split('/');
    for (const token of [undefined, wrongToken, '', `${shopToken}x`]) {
      const a = await call(SERVICES[svc], method, c.req(), token);
      assert.equal(a.code, grpc.status.UNAUTHENTICATED, `${name} with ${token === undefined ? 'no token' : 'a wrong token'}`);
      assert.equal(a.details, 'authentication required');
      assert.equal(flowsOf(a).length, 0);
    }
  }
  const after = await (await fetch(relayMetrics)).text();
  const n = Object.keys(METHODS).length;
  const missing =
    metric(after, 'flowscope_relay_auth_refused_total', '{reason="missing"}') - metric(before, 'flowscope_relay_auth_refused_total', '{reason="missing"}');
  const invalid =
    metric(after, 'flowscope_relay_auth_refused_total', '{reason="invalid"}') - metric(before, 'flowscope_relay_auth_refused_total', '{reason="invalid"}');
  // grpc-js sends no header for "Bearer " (a value may not end in a space): that one is missing too.
  assert.deepEqual({ missing, invalid }, { missing: 2 * n, invalid: 2 * n });
});

test('gRPC: a shop token sees only flows with shop on one side, an all-namespaces token everything', async () => {
  for (const [name, c] of Object.entries(METHODS)) {
    const [svc, method] = name.split('/');
    const req = c.req();
    const shop = await call(SERVICES[svc], method, req, shopToken);
    const admin = await call(SERVICES[svc], method, req, adminToken);
    if (!['Observer/ServerStatus', 'Observer/GetAgentEvents', 'Observer/GetDebugEvents'].includes(name)) {
      assert.equal(shop.code, grpc.status.OK, `${name}: ${shop.details}`);
      assert.equal(admin.code, grpc.status.OK, `${name}: ${admin.details}`);
    }
    c.scoped(shop, admin);
  }
});

test('gRPC: a request naming only namespaces outside the token is PERMISSION_DENIED, and counted', async () => {
  const before = await (await fetch(relayMetrics)).text();
  let n = 0;
  for (const [name, c] of Object.entries(METHODS)) {
    if (!c.outside) continue;
    const [svc, method] = name.split('/');
    const shop = await call(SERVICES[svc], method, c.outside(), shopToken);
    assert.equal(shop.code, grpc.status.PERMISSION_DENIED, name);
    assert.equal(shop.details, 'permission denied');
    assert.equal(flowsOf(shop).length, 0);
    n++;
    // The same question with shop named too is answered (scoped).
    const admin = await call(SERVICES[svc], method, c.outside(), adminToken);
    assert.equal(admin.code, grpc.status.OK, `${name} (admin): ${admin.details}`);
  }
  // ServerStatus is refused to scoped tokens too.
  assert.equal((await call(ObserverService, 'ServerStatus', {}, shopToken)).code, grpc.status.PERMISSION_DENIED);
  n++;
  assert.ok(n >= 5);
  const after = await (await fetch(relayMetrics)).text();
  const forbidden = (t: string) => metric(t, 'flowscope_relay_auth_refused_total', '{reason="forbidden"}');
  assert.equal(forbidden(after) - forbidden(before), n);
  // Insights refusals also show by method, apart from the answered requests.
  for (const method of ['ServiceMap', 'TopTalkers', 'TopDropReasons', 'Why']) {
    const m = (t: string) => metric(t, 'flowscope_relay_insights_requests_total', `{method="${method}",result="forbidden"}`);
    assert.equal(m(after) - m(before), 1, method);
  }
  // A mixed request (shop and another namespace) is answered, within the scope.
  const mixed = await call(ObserverService, 'GetFlows', { number: 1e9, whitelist: [{ source_pod: ['shop/', 'kube-system/'] }] }, shopToken);
  assert.equal(mixed.code, grpc.status.OK);
  const got = flowsOf(mixed);
  assert.ok(got.length > 0 && got.every(inShop));
  assert.deepEqual(uuids(got), uuids(all.filter((f) => inShop(f) && ['shop', 'kube-system'].includes(f.source?.namespace ?? ''))));
});

// ---- HTTP: every /api/v1 route ----

interface RouteCase {
  query: string;
  scoped(shop: { status: number; body: string }, admin: { status: number; body: string }): void;
  /** A query naming only namespaces outside shop (403 for the shop token). */
  outside?: string;
}

const json = (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>;
/** The flows of an SSE body (events `flow`). */
const sseFlows = (body: string) =>
  body
    .split('\n\n')
    .slice(0, -1) // the part after the last blank line is not a whole event yet
    .filter((e) => e.startsWith('event: flow\n'))
    .map((e) => JSON.parse(e.slice('event: flow\ndata: '.length)) as Flow);

const ROUTES: Record<string, RouteCase> = {
  '/api/v1/flows': {
    query: 'all=true',
    scoped(shop, admin) {
      const flows = (r: { body: string }) => json(r).flows as Flow[];
      assert.deepEqual(uuids(flows(shop)), uuids(all.filter(inShop)));
      assert.equal(flows(admin).length, all.length);
    },
    outside: 'from-namespace=monitoring&last=10',
  },
  '/api/v1/flows/stream': {
    query: 'last=200',
    scoped(shop, admin) {
      const s = sseFlows(shop.body);
      assert.equal(s.length, 200);
      for (const f of s) assert.ok(inShop(f), JSON.stringify(f.source));
      assert.ok(sseFlows(admin.body).some((f) => !inShop(f)));
    },
    outside: 'namespace=monitoring&last=10',
  },
  '/api/v1/service-map': {
    query: 'since=1h&limit=100000',
    scoped(shop, admin) {
      const edges = (r: { body: string }) => (json(r).edges ?? []) as Array<{ source_namespace: string; destination_namespace: string; flows: number }>;
      for (const e of edges(shop)) assert.ok(e.source_namespace === SHOP || e.destination_namespace === SHOP, JSON.stringify(e));
      assert.equal(
        edges(shop).reduce((s, e) => s + Number(e.flows), 0),
        all.filter(inShop).length,
      );
      assert.equal(
        edges(admin).reduce((s, e) => s + Number(e.flows), 0),
        all.length,
      );
    },
    outside: 'since=1h&namespace=monitoring',
  },
  '/api/v1/top/talkers': {
    query: 'since=1h&limit=100000',
    scoped(shop, admin) {
      const sum = (r: { body: string }) => ((json(r).talkers ?? []) as Array<{ flows: number }>).reduce((s, t) => s + Number(t.flows), 0);
      assert.equal(sum(shop), all.filter(inShop).length);
      assert.equal(sum(admin), all.length);
    },
    outside: 'since=1h&namespace=monitoring',
  },
  '/api/v1/top/drops': {
    query: 'since=1h&limit=100000',
    scoped(shop, admin) {
      const rows = (r: { body: string }) => (json(r).reasons ?? []) as Array<{ source_namespace: string; destination_namespace: string; flows: number }>;
      for (const r of rows(shop)) assert.ok(r.source_namespace === SHOP || r.destination_namespace === SHOP, JSON.stringify(r));
      assert.ok(rows(admin).some((r) => r.source_namespace !== SHOP && r.destination_namespace !== SHOP));
    },
    outside: 'since=1h&namespace=kube-system',
  },
  '/api/v1/why': {
    query: '',
    scoped(shop, admin) {
      const fwd = (r: { body: string }) => Number((json(r).forward as { flows?: number } | undefined)?.flows ?? 0);
      assert.ok(fwd(admin) > 0);
      assert.equal(fwd(shop), 0);
    },
    outside: 'since=1h&from-pod=monitoring/&to-pod=kube-system/',
  },
  '/api/v1/status': {
    query: '',
    scoped(shop, admin) {
      assert.equal(shop.status, 403);
      assert.equal(admin.status, 200);
    },
  },
  '/api/v1/nodes': {
    query: '',
    scoped(shop, admin) {
      assert.equal((json(shop).nodes as unknown[]).length, (json(admin).nodes as unknown[]).length);
      for (const n of json(shop).nodes as Array<Record<string, unknown>>) assert.ok(!n.num_flows && !n.seen_flows);
    },
  },
  '/api/v1/namespaces': {
    query: '',
    scoped(shop, admin) {
      const names = (r: { body: string }) => ((json(r).namespaces ?? []) as Array<{ namespace: string }>).map((n) => n.namespace);
      const allowed = new Set(all.filter(inShop).flatMap((f) => [f.source?.namespace, f.destination?.namespace]));
      assert.ok(names(shop).includes(SHOP));
      for (const n of names(shop)) assert.ok(allowed.has(n), n);
      assert.ok(
        names(admin).some((n) => !allowed.has(n)),
        'namespaces that never talk to shop exist',
      );
    },
  },
};

function whyQuery(): string {
  const p = outsidePair();
  return `since=1h&from-ip=${p.source_ip![0]}&to-ip=${p.destination_ip![0]}`;
}

/** GET with an optional token; a stream is read until `sseFlows` holds `streamFlows` flows. */
async function get(base: string, url: string, token: string | undefined, streamFlows = 200): Promise<{ status: number; body: string; headers: Headers }> {
  const ac = new AbortController();
  const res = await fetch(`${base}${url}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, signal: ac.signal });
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) return { status: res.status, body: await res.text(), headers: res.headers };
  let body = '';
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  while (sseFlows(body).length < streamFlows) {
    const { value, done } = await reader.read();
    if (done) break;
    body += dec.decode(value, { stream: true });
    if (body.includes('event: error')) break;
  }
  ac.abort();
  await reader.cancel().catch(() => {});
  return { status: res.status, body, headers: res.headers };
}

async function openapiRoutes(): Promise<string[]> {
  const doc = (await (await fetch(`${apiUrl}/openapi.json`)).json()) as { paths: Record<string, { get?: { security?: unknown } }> };
  const routes = Object.keys(doc.paths).filter((p) => p.startsWith('/api/v1/'));
  for (const r of routes) assert.deepEqual(doc.paths[r].get?.security, [{ bearer: [] }], `${r} declares the bearer token`);
  return routes.sort();
}

test('every /api/v1 route of the OpenAPI document has a case here', async () => {
  assert.deepEqual(await openapiRoutes(), Object.keys(ROUTES).sort());
});

test('HTTP: no token or a wrong one is 401 with WWW-Authenticate, on both APIs, counted', async () => {
  const metricsText = async () => (await fetch(`${apiUrl}/metrics`)).text();
  const before = await metricsText();
  const n = Object.keys(ROUTES).length;
  for (const [route, c] of Object.entries(ROUTES)) {
    const q = route === '/api/v1/why' ? whyQuery() : c.query;
    for (const token of [undefined, wrongToken]) {
      const r = await get(apiUrl, `${route}?${q}`, token);
      assert.equal(r.status, 401, `${route} ${token ?? 'no token'}: ${r.body}`);
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.deepEqual(JSON.parse(r.body), { statusCode: 401, error: 'Unauthorized', message: 'authentication required' });
      // The API without a token file: the relay's refusal, mapped the same way.
      const f = await forwarding.inject({ method: 'GET', url: `${route}?${q}`, headers: token ? { authorization: `Bearer ${token}` } : {} });
      assert.equal(f.statusCode, 401, `${route} (forwarding): ${f.body}`);
      assert.match(String(f.headers['www-authenticate']), /^Bearer/);
      assert.equal(JSON.parse(f.body).message, 'authentication required');
    }
  }
  const after = await metricsText();
  const d = (reason: string) =>
    metric(after, 'flowscope_api_auth_refused_total', `{reason="${reason}"}`) - metric(before, 'flowscope_api_auth_refused_total', `{reason="${reason}"}`);
  assert.equal(d('missing'), n);
  assert.equal(d('invalid'), n);
  // The API's metrics name routes and reasons, never a namespace or a token.
  assert.doesNotMatch(after, /namespace=/);
});

test('HTTP: a shop token sees only shop flows on every route, an all-namespaces token everything', async () => {
  for (const [route, c] of Object.entries(ROUTES)) {
    const q = route === '/api/v1/why' ? whyQuery() : c.query;
    const shop = await get(apiUrl, `${route}?${q}`, shopToken);
    const admin = await get(apiUrl, `${route}?${q}`, adminToken);
    if (route !== '/api/v1/status') {
      assert.equal(shop.status, 200, `${route}: ${shop.body.slice(0, 300)}`);
      assert.equal(admin.status, 200, `${route}: ${admin.body.slice(0, 300)}`);
    }
    c.scoped(shop, admin);
  }
});

test('HTTP: a request about namespaces outside the token is 403, on both APIs', async () => {
  for (const [route, c] of Object.entries(ROUTES)) {
    const q = c.outside;
    if (q === undefined) continue;
    for (const base of [apiUrl, null]) {
      const r: { status: number; body: string } = base
        ? await get(base, `${route}?${q}`, shopToken)
        : await forwarding
            .inject({ method: 'GET', url: `${route}?${q}`, headers: { authorization: `Bearer ${shopToken}` } })
            .then((x) => ({ status: x.statusCode, body: x.body }));
      assert.equal(r.status, 403, `${route}?${q}: ${r.body.slice(0, 300)}`);
      assert.deepEqual(JSON.parse(r.body), { statusCode: 403, error: 'Forbidden', message: 'permission denied' });
    }
  }
  assert.equal((await get(apiUrl, '/api/v1/status', shopToken)).status, 403);
});

test('HTTP: probes, metrics, the OpenAPI document, the docs and the web UI stay open', async () => {
  for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/', '/docs/static/swagger-ui-bundle.js']) {
    const r = await fetch(`${apiUrl}${url}`);
    assert.equal(r.status, 200, url);
    await r.arrayBuffer();
  }
  const doc = (await (await fetch(`${apiUrl}/openapi.json`)).json()) as { components: { securitySchemes: Record<string, unknown> } };
  assert.deepEqual(doc.components.securitySchemes.bearer, {
    type: 'http',
    scheme: 'bearer',
    description: 'A token from `flowscope tokens create`; it sees the flows with one of its namespaces on either side',
  });
});

test('CLI: --token-file and FLOWSCOPE_TOKEN; without a token a one-line error, no stack', async () => {
  const tf = path.join(dir, 'shop.token');
  fs.writeFileSync(tf, `${shopToken}\n`, { mode: 0o600 });
  const r = await run(['observe', '--server', server, '--token-file', tf, '--all', '-o', 'jsonpb'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const flows = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{"flow"'))
    .map((l) => JSON.parse(l).flow as Flow);
  assert.deepEqual(uuids(flows), uuids(all.filter(inShop)));

  const none = await run(['service-map', '--server', server]);
  assert.equal(none.code, 1);
  assert.equal(none.stderr.trim().split('\n').length, 1, none.stderr);
  assert.match(none.stderr, /requires a valid token: give --token-file \(or set FLOWSCOPE_TOKEN\)/);
  assert.doesNotMatch(none.stderr, /^\s+at /m);

  const forbidden = await run(['why', '--server', server, '--token-file', tf, '--from-pod', 'monitoring/', '--to-pod', 'kube-system/']);
  assert.notEqual(forbidden.code, 0);
  assert.match(forbidden.stderr, /the token may not see this/);

  const missing = await run(['top', 'talkers', '--server', server, '--token-file', path.join(dir, 'nope')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^Error: --token-file .*nope: no such file$/m);

  process.env.FLOWSCOPE_TOKEN = adminToken;
  try {
    const env = await run(['list', 'namespaces', '--server', server, '-o', 'json']);
    assert.equal(env.code, 0, env.stderr);
    assert.ok(env.stdout.includes('monitoring'));
  } finally {
    delete process.env.FLOWSCOPE_TOKEN;
  }
});

test('live: a follow with the shop token gets only shop flows, and nodes show no counters to it', async () => {
  // A second collector, followed live through the relay's fan-out.
  const live = startProc(['collector', '--relay', server, '--listen', `127.0.0.1:${await freePort()}`, '--synthetic-node', '2', '--rate', '300']);
  try {
    await waitFor(
      'the live collector to be connected',
      async () => {
        const a = await call(ObserverService, 'GetNodes', {}, adminToken);
        const nodes = (a.value?.nodes ?? []) as Array<{ name: string; state: unknown; num_flows?: number }>;
        return nodes.some((n) => (n.num_flows ?? 0) > 0) ? true : undefined;
      },
      60_000,
    );
    const shopNodes = (await call(ObserverService, 'GetNodes', {}, shopToken)).value!.nodes as Array<Record<string, unknown>>;
    for (const n of shopNodes) assert.ok(!n.num_flows && !n.seen_flows, JSON.stringify(n));
    const shop = await call(ObserverService, 'GetFlows', { follow: true }, shopToken, 150);
    assert.equal(shop.code, grpc.status.OK, shop.details);
    const got = flowsOf(shop);
    assert.ok(got.length > 0);
    for (const f of got) assert.ok(inShop(f), JSON.stringify([f.source?.namespace, f.destination?.namespace]));
    const admin = await call(ObserverService, 'GetFlows', { follow: true }, adminToken, 150);
    assert.ok(
      flowsOf(admin).some((f) => !inShop(f)),
      'the admin follow has flows outside shop',
    );
    // An SSE stream with the token, through the API.
    const r = await get(apiUrl, '/api/v1/flows/stream', shopToken, 50);
    assert.equal(r.status, 200);
    const s = sseFlows(r.body);
    assert.ok(s.length >= 50);
    for (const f of s) assert.ok(inShop(f));
  } finally {
    await live.stop();
  }
});

test('the token file reloads without a restart; a broken change keeps the last good tokens, never open access', async () => {
  const relayMetric = async (name: string) => metric(await (await fetch(relayMetrics)).text(), name);
  const apiMetric = async (name: string) => metric(await (await fetch(`${apiUrl}/metrics`)).text(), name);
  assert.equal(await relayMetric('flowscope_relay_auth_token_file_ok'), 1);
  const late = addToken(tokenFile, 'late', [SHOP]);
  await waitFor('the relay to take the new token', async () =>
    (await call(ObserverService, 'GetNamespaces', {}, late)).code === grpc.status.OK ? true : undefined,
  );
  await waitFor('the API to take it', async () => ((await get(apiUrl, '/api/v1/namespaces', late)).status === 200 ? true : undefined));
  const good = fs.readFileSync(tokenFile, 'utf8');
  fs.writeFileSync(tokenFile, `${good}  - name: broken\n    sha256: nothex\n    namespaces: [shop]\n`);
  await waitFor('the relay to see the broken file', async () => ((await relayMetric('flowscope_relay_auth_token_file_ok')) === 0 ? true : undefined));
  await waitFor('the API to see it', async () => ((await apiMetric('flowscope_api_auth_token_file_ok')) === 0 ? true : undefined));
  assert.equal(await relayMetric('flowscope_relay_auth_token_file_reload_errors_total'), 1);
  assert.equal(await apiMetric('flowscope_api_auth_token_file_reload_errors_total'), 1);
  for (const t of [shopToken, adminToken, late]) {
    assert.equal((await call(ObserverService, 'GetNamespaces', {}, t)).code, grpc.status.OK);
    assert.equal((await get(apiUrl, '/api/v1/namespaces', t)).status, 200);
  }
  assert.equal((await call(ObserverService, 'GetNamespaces', {}, undefined)).code, grpc.status.UNAUTHENTICATED, 'never open');
  assert.equal((await get(apiUrl, '/api/v1/namespaces', undefined)).status, 401);
  assert.match(relay.output(), /token file changed but does not check.*|"err":"--auth-token-file [^"]*: tokens\[3\]\.sha256 must be/);
  fs.writeFileSync(tokenFile, good);
  await waitFor('the relay to take the fixed file', async () => ((await relayMetric('flowscope_relay_auth_token_file_ok')) === 1 ? true : undefined));
  assert.equal(await relayMetric('flowscope_relay_auth_token_file_reloads_total'), 2);
});

test('no token appears in any log line of the relay or the API', () => {
  for (const [name, out] of [
    ['relay', relay.output()],
    ['api', api.output()],
  ] as const) {
    assert.ok(out.length > 0, `${name} logged`);
    for (const t of [shopToken, adminToken, wrongToken]) {
      assert.ok(!out.includes(t), `${name} log holds a token`);
      assert.ok(!out.includes(t.slice(3, 15)), `${name} log holds part of a token`);
    }
  }
});
