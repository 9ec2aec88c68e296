// Redaction end to end: a synthetic collector with --l7-dns and --redact-dns-query ships to a relay
// with chDB; what is stored (read back with `flowscope observe`), what the collector's own
// Observer API serves from its ring, and its /metrics show the names redacted, while other names
// pass. HTTP and Kafka values (which no local source produces) are checked through the pipeline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startProc, startTestRelay, run, waitFor, type Proc } from '../../testing/harness.js';
import type { Flow } from '../../proto/types.js';
import { CollectorPipeline, type FlowDecoder } from '../../collector/pipeline.js';
import { FlowRing } from '../../collector/ring.js';
import { FlowBlocks } from '../../collector/blocks.js';
import { BATCH_HEADROOM } from '../../collector/ship/batch-message.js';
import { blockToFlows } from '../../schema/native/flow-block.js';
import { LiveFeed } from '../../observer/live.js';
import { LossCounters } from '../../collector/loss.js';
import { REDACTED } from '../../collector/enrich/redact.js';
import { createSource } from '../../collector/sources/registry.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-redact-'));
let server = '';
let collectorAddr = '';
let metricsPort = 0;
let relay: Proc;
let collector: Proc;

// Two names the synthetic cluster resolves: one external (with its CNAME edge.api.stripe.com and the search-domain expansions a pod
// tries first: api.stripe.com.shop.svc.cluster.local …), one in-cluster service.
const PATTERNS = ['*api.stripe.com*', '/^redis\\.shop\\.svc\\./'];
const HIDDEN = [/api\.stripe\.com/, /redis\.shop\.svc/];

function dnsFlows(out: string): Flow[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{"flow"'))
    .map((l) => JSON.parse(l).flow as Flow)
    .filter((f) => f.l7?.dns !== undefined);
}

before(async () => {
  collectorAddr = `127.0.0.1:${await freePort()}`;
  metricsPort = await freePort();
  ({ server, relay } = await startTestRelay(path.join(dir, 'chdb')));
  collector = startProc([
    'collector',
    '--rate',
    '2000',
    // A bounded run: every flow is stored and then read back in one go.
    '--count',
    '8000',
    '--l7-dns',
    '--relay',
    server,
    '--listen',
    collectorAddr,
    '--metrics-addr',
    `127.0.0.1:${metricsPort}`,
    '--redact-enabled',
    ...PATTERNS.flatMap((p) => ['--redact-dns-query', p]),
  ]);
});

after(async () => {
  await collector?.stop();
  await relay?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('stored DNS flows carry the matching names redacted, other names as they were', async () => {
  const scrape = async (): Promise<number> => {
    const m = /flowscope_collector_ship_flows_acked_total (\d+)/.exec(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    return m ? Number(m[1]) : -1;
  };
  // All of the bounded run decoded and acknowledged as durable by the relay.
  await waitFor(
    'the collector to ship every flow',
    async () => {
      const flows = /flowscope_collector_flows_total (\d+)/.exec(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
      const acked = await scrape();
      return flows && Number(flows[1]) >= 8000 && acked === Number(flows[1]) ? true : undefined;
    },
    120_000,
  );
  const all = await run(['observe', '--server', server, '--all', '-o', 'jsonpb'], { timeoutMs: 120_000 });
  assert.equal(all.code, 0, all.stderr);
  const flows = dnsFlows(all.stdout);
  const redacted = flows.filter((f) => f.l7!.dns!.query === REDACTED);
  assert.ok(redacted.length >= 10, `${redacted.length} redacted DNS flows of ${flows.length}`);
  assert.ok(
    flows.some((f) => f.l7!.dns!.query!.endsWith('.svc.cluster.local.')),
    'names not matching any pattern are kept',
  );
  // No stored field spells a hidden name: queries, CNAMEs, summaries, and the names DNS answers
  // gave the addresses of later flows.
  for (const re of HIDDEN) assert.doesNotMatch(all.stdout, re);
  for (const f of redacted) assert.ok(f.Summary?.includes(REDACTED), `summary rebuilt from the redacted query: ${f.Summary}`);
});

test("the collector's own Observer API (its ring) and metrics show the redaction", async () => {
  const r = await run(['observe', '--server', collectorAddr, '--last', '4000', '--type', 'l7', '-o', 'jsonpb']);
  assert.equal(r.code, 0, r.stderr);
  const flows = dnsFlows(r.stdout);
  assert.ok(flows.some((f) => f.l7!.dns!.query === REDACTED));
  for (const re of HIDDEN) assert.doesNotMatch(r.stdout, re);
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const m = /flowscope_collector_redacted_total\{field="dns_name"\} (\d+)/.exec(metrics);
  assert.ok(m && Number(m[1]) > 0, 'flowscope_collector_redacted_total{field="dns_name"} counts');
});

test('HTTP and Kafka values are redacted before the ring, the live feed and the shipper see the flow', async () => {
  const { enricher, redactor } = await createSource(
    { kind: 'file', path: '/dev/null' },
    {
      nodeName: 'n1',
      version: 'test',
      redact: { httpUrlQuery: true, httpUserInfo: true, kafkaApiKey: true, httpHeadersAllow: ['content-type'], httpHeadersDeny: [], dnsQuery: [] },
    },
  );
  assert.ok(redactor && enricher);
  const made: Flow[] = [
    {
      Type: 2,
      l7: {
        type: 1,
        http: {
          method: 'POST',
          protocol: 'HTTP/1.1',
          url: 'http://u:pw@pay.shop/charge?card=4111',
          headers: [
            { key: 'Authorization', value: 'Bearer t' },
            { key: 'Content-Type', value: 'application/json' },
          ],
        },
      },
      Summary: 'HTTP/1.1 POST http://u:pw@pay.shop/charge?card=4111',
    },
    { Type: 2, l7: { type: 1, kafka: { api_key: 'produce', topic: 'orders' } } },
  ];
  let i = 0;
  const decoder: FlowDecoder = { decode: () => made[i++] ?? null };
  const loss = new LossCounters();
  const ringSeen: Flow[] = [];
  // What the shipper sends: the blocks the ring writes.
  const blocks = new FlowBlocks('redaction', { maxDelayMs: 0 });
  const shipped: Flow[] = [];
  blocks.onBlock((b) => shipped.push(...blockToFlows(b.framed.subarray(BATCH_HEADROOM))));
  const ring = new (class extends FlowRing {
    override push(flow: Flow): number {
      ringSeen.push(structuredClone(flow));
      return super.push(flow);
    }
  })(16, loss, blocks);
  const live = new LiveFeed();
  const sub = live.subscribe(0);
  const pipeline = new CollectorPipeline(decoder, enricher, ring, live, { addLost: () => {} }, loss);
  pipeline.records([
    { data: new Uint8Array(1), cpu: 0, timeNs: 0 },
    { data: new Uint8Array(1), cpu: 0, timeNs: 0 },
  ]);
  const want = [
    {
      url: `http://u:${REDACTED}@pay.shop/charge`,
      headers: [
        { key: 'Authorization', value: REDACTED },
        { key: 'Content-Type', value: 'application/json' },
      ],
    },
    { api_key: REDACTED },
  ];
  const liveSeen = (await sub.next()).map((it) => it.flow!);
  const ringRead = [...ring.range(0, ring.seen)];
  for (const seen of [shipped, ringSeen, liveSeen, ringRead]) {
    assert.equal(seen.length, 2);
    assert.equal(seen[0].l7!.http!.url, want[0].url);
    assert.deepEqual(seen[0].l7!.http!.headers, want[0].headers);
    assert.equal(seen[0].Summary, `HTTP/1.1 POST ${want[0].url}`);
    assert.equal(seen[1].l7!.kafka!.api_key, REDACTED);
  }
});
