// The collector's Observer API and the relay's resume header: a resume serves the ring after the
// listed cursor of this session (or from the ring's start for another session), announces the
// session, refuses a malformed header; a request without it (any hubble client) is unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { ObserverService, ObserverClient, bindServer } from '../common/grpc-services.js';
import { observerHandlers } from '../observer/service.js';
import { LiveFeed } from '../observer/live.js';
import { RESUME_HEADER, SESSION_HEADER } from '../observer/resume.js';
import { FlowRateMeter } from '../common/rate.js';
import { collectorObserverBackend } from './observer-backend.js';
import { FlowRing } from './ring.js';
import type { Flow, GetFlowsRequest, GetFlowsResponse } from '../proto/types.js';

const SESSION = '6f1c2b2e-1d7a-4c55-9a43-0a8e2f4d9b10';

async function start() {
  const ring = new FlowRing(8);
  const live = new LiveFeed(100);
  const stats = { invalid: 0 };
  const server = new grpc.Server();
  server.addService(
    ObserverService,
    observerHandlers(
      collectorObserverBackend({
        nodeName: 'n1',
        version: 't',
        ring,
        live,
        rate: new FlowRateMeter(),
        startedMs: Date.now(),
        session: SESSION,
        onInvalidResume: () => stats.invalid++,
      }),
    ),
  );
  const port = await bindServer(server, '127.0.0.1:0');
  const client = new ObserverClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    GetFlows(req: GetFlowsRequest, md: grpc.Metadata): grpc.ClientReadableStream<GetFlowsResponse>;
  };
  let n = 0;
  const push = (k: number) => {
    const items = [];
    for (let i = 0; i < k; i++) {
      n++;
      const flow: Flow = { uuid: `f${n}`, time: { seconds: 1_700_000_000 + n, nanos: 0 }, node_name: 'n1' };
      items.push({ cursor: ring.push(flow), flow });
    }
    live.advance(items[items.length - 1].cursor);
    live.publish(items);
  };
  return {
    ring,
    stats,
    push,
    client,
    async stop() {
      client.close();
      await new Promise<void>((r) => server.tryShutdown(() => r()));
    },
  };
}

/** Follows until `want` flows arrived; returns them, the response headers and lost counts. */
function follow(client: Awaited<ReturnType<typeof start>>['client'], md: grpc.Metadata, want: number, req: GetFlowsRequest = { follow: true }) {
  const call = client.GetFlows(req, md);
  const uuids: string[] = [];
  let lost = 0;
  let session: string | undefined;
  const headers = new Promise<void>((r) =>
    call.on('metadata', (m: grpc.Metadata) => {
      session = m.get(SESSION_HEADER)[0] as string | undefined;
      r();
    }),
  );
  const done = new Promise<{ uuids: string[]; lost: number; session?: string; error?: grpc.ServiceError }>((resolve) => {
    call.on('data', (r: GetFlowsResponse) => {
      if (r.flow) uuids.push(r.flow.uuid!);
      if (r.lost_events) lost += Number(r.lost_events.num_events_lost);
      if (uuids.length >= want) {
        call.cancel();
        resolve({ uuids, lost, session });
      }
    });
    call.on('error', (error: grpc.ServiceError) => resolve({ uuids, lost, session, error }));
  });
  return { headers, done };
}

const resume = (v: string) => {
  const md = new grpc.Metadata();
  md.set(RESUME_HEADER, v);
  return md;
};

test('resume after this session’s cursor: the ring after it, then live; the session is announced', async () => {
  const c = await start();
  try {
    c.push(5);
    const f = follow(c.client, resume(`other=2,${SESSION}=3`), 4);
    await f.headers;
    c.push(2);
    const got = await f.done;
    assert.equal(got.error, undefined);
    assert.equal(got.session, SESSION);
    assert.deepEqual(got.uuids, ['f4', 'f5', 'f6', 'f7']);
    assert.equal(got.lost, 0);
  } finally {
    await c.stop();
  }
});

test('a session the relay does not list is served from the ring’s start; a lapped ring is reported lost', async () => {
  const c = await start();
  try {
    c.push(10); // the ring (8) holds f3..f10
    const f = follow(c.client, resume('not-this-one=7'), 8);
    const got = await f.done;
    assert.deepEqual(got.uuids, ['f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9', 'f10']);
    assert.equal(got.lost, 2);
  } finally {
    await c.stop();
  }
});

test('without the header (any hubble client) a follow gets only new flows; a malformed header is INVALID_ARGUMENT and counted', async () => {
  const c = await start();
  try {
    c.push(5);
    const f = follow(c.client, new grpc.Metadata(), 2);
    await f.headers;
    c.push(2);
    assert.deepEqual((await f.done).uuids, ['f6', 'f7']);
    for (const bad of ['x', `${SESSION}=-1`, `${SESSION}=1e3`, 'a b=1', `${SESSION}=99999999999999999`]) {
      const got = await follow(c.client, resume(bad), 1).done;
      assert.equal(got.error?.code, grpc.status.INVALID_ARGUMENT, bad);
      assert.match(got.error!.details, /flowscope-resume/, bad);
    }
    assert.equal(c.stats.invalid, 5);
  } finally {
    await c.stop();
  }
});

test('a filtered follow with --until ends once the ring passes it, even when no flow matched', async () => {
  const c = await start();
  try {
    const until = { seconds: 1_700_000_000 + 3, nanos: 0 };
    const call = c.client.GetFlows({ follow: true, until, whitelist: [{ source_pod: ['no-such-pod'] }] }, new grpc.Metadata());
    const got: string[] = [];
    call.on('data', (r: GetFlowsResponse) => r.flow && got.push(r.flow.uuid!));
    const ended = new Promise<grpc.StatusObject>((r) => call.on('status', r));
    await new Promise<void>((r) => call.on('metadata', () => r()));
    c.push(2); // before --until, filtered out
    c.push(3); // past it: the follow ends
    const status = await ended;
    assert.equal(status.code, grpc.status.OK);
    assert.deepEqual(got, []);
  } finally {
    await c.stop();
  }
});
