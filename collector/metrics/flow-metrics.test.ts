import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scrapeValues } from '../../common/metrics/scrape.js';
import { Registry } from 'prom-client';
import type { Flow } from '../../proto/types.js';
import { Verdict } from '../../proto/types.js';
import { buildCluster, toInventory } from '../synthetic/cluster.js';
import { StaticInventoryEnricher } from '../enrich/static.js';
import { MonitorDecoder } from '../decode/decoder.js';
import { SyntheticSource } from '../sources/synthetic.js';
import { FlowMetrics } from './flow-metrics.js';
import { parseMetricsConfig, DEFAULT_METRICS } from './options.js';
import type { CounterFamily } from '../../common/metrics/family.js';

function syntheticFlows(n: number, policyDenySurge = 1): Flow[] {
  const model = buildCluster({ seed: 5 });
  const src = new SyntheticSource({ seed: 5, model, nodeName: model.nodes[1].name, policyDenySurge });
  const enr = new StaticInventoryEnricher(toInventory(model), { nodeName: src.nodeName });
  const dec = new MonitorDecoder({ nodeName: src.nodeName, localEndpointId: enr.localEndpointId, l7Dns: true });
  const out: Flow[] = [];
  for (const r of src.take(n, 1.7e18)) {
    const f = dec.decode(r)!;
    // DNS messages come as extra L7 flows beside the packet's flow, as from Hubble's DNS proxy.
    for (const x of [f, ...(dec.l7Flows ?? [])]) {
      enr.enrich(x);
      out.push(x);
    }
  }
  return out;
}

function family(m: FlowMetrics, name: string): CounterFamily {
  const f = m.families.find((x) => x.name === name);
  assert.ok(f, `family ${name}`);
  return f;
}

const scrape = scrapeValues;

test('metrics config: Hubble syntax, space or comma separated, options and errors', () => {
  const specs = parseMetricsConfig(
    'drop:sourceContext=namespace;destinationContext=pod,dns:query;ignoreAAAA flow:sourceContext=pod|ip;labelsContext=source_namespace,destination_namespace',
  );
  assert.deepEqual(
    specs.map((s) => s.name),
    ['drop', 'dns', 'flow'],
  );
  assert.equal(specs[0].options.get('destinationContext'), 'pod');
  assert.deepEqual([...specs[1].options.keys()], ['query', 'ignoreAAAA']);
  assert.equal(specs[2].options.get('labelsContext'), 'source_namespace,destination_namespace');
  assert.deepEqual(
    parseMetricsConfig(['drop', 'tcp']).map((s) => s.name),
    ['drop', 'tcp'],
  );
  assert.throws(() => parseMetricsConfig('drops'), /unknown metric "drops"/);
  assert.throws(() => parseMetricsConfig('drop drop'), /twice/);
  assert.throws(() => new FlowMetrics({ config: 'drop:sourceContext=nodes' }), /invalid sourceContext "nodes"/);
  assert.throws(() => new FlowMetrics({ config: 'tcp:bogus' }), /unknown option "bogus"/);
  assert.throws(() => new FlowMetrics({ config: 'flow:labelsContext=source_pod,color' }), /invalid labelsContext "color"/);
  assert.equal(new FlowMetrics({ config: DEFAULT_METRICS }).handlers.length, 8);
});

test('drop, flow and policy counters equal what the flows say, with Hubble label order', () => {
  const flows = syntheticFlows(20_000, 5);
  const m = new FlowMetrics({
    config: 'drop:sourceContext=namespace;destinationContext=workload flow:sourceContext=pod-name|ip policy:labelsContext=traffic_direction,source_namespace',
  });
  m.beginBatch();
  for (const f of flows) m.process(f);

  const drop = family(m, 'hubble_drop_total');
  assert.deepEqual(drop.labelNames, ['source', 'destination', 'reason', 'protocol']);
  const denied = flows.filter((f) => f.verdict === Verdict.DROPPED && f.drop_reason_desc === 133 && f.source?.namespace === 'shop');
  assert.ok(denied.length > 100, 'the surge produces policy denials');
  const byDest = new Map<string, number>();
  for (const f of denied) {
    const w = f.destination?.workloads?.[0]?.name;
    const k = w ? `${f.destination!.namespace}/${w}` : '';
    byDest.set(k, (byDest.get(k) ?? 0) + 1);
  }
  for (const [dest, n] of byDest) assert.equal(drop.valueOf(['shop', dest, 'POLICY_DENIED', 'TCP']), n, dest);

  const flow = family(m, 'hubble_flows_processed_total');
  assert.deepEqual(flow.labelNames, ['protocol', 'type', 'subtype', 'verdict', 'source']);
  let total = 0;
  for (const s of (flow as unknown as { series: Map<string, { count: number }> }).series.values()) total += s.count;
  assert.equal(total, flows.length);

  const policy = family(m, 'hubble_policy_verdicts_total');
  assert.deepEqual(policy.labelNames, ['direction', 'match', 'action', 'source_namespace', 'traffic_direction']);
  const pv = flows.filter(
    (f) =>
      f.event_type?.type === 5 &&
      f.verdict === Verdict.DROPPED &&
      f.traffic_direction === 2 &&
      f.source?.namespace === 'shop' &&
      (f.policy_match_type ?? 0) === 0,
  );
  assert.ok(pv.length > 0);
  assert.equal(policy.valueOf(['egress', 'none', 'dropped', 'shop', 'egress']), pv.length);
});

test('dns, tcp, icmp, port-distribution and flows-to-world handlers', () => {
  const flows = syntheticFlows(20_000);
  const m = new FlowMetrics({ config: 'dns:query tcp icmp port-distribution flows-to-world:port;syn-only' });
  m.beginBatch();
  for (const f of flows) m.process(f);

  const responses = family(m, 'hubble_dns_responses_total');
  assert.deepEqual(responses.labelNames, ['rcode', 'qtypes', 'ips_returned', 'query']);
  const nx = flows.filter((f) => f.l7?.type === 2 && f.l7.dns?.rcode === 3);
  assert.ok(nx.length > 0);
  const q = nx[0].l7!.dns!.query!;
  assert.equal(
    responses.valueOf(['Non-Existent Domain', 'A', '0', q]),
    nx.filter((f) => f.l7!.dns!.query === q && f.l7!.dns!.qtypes?.join(',') === 'A').length,
  );
  const queries = family(m, 'hubble_dns_queries_total');
  assert.ok(queries.size > 0);

  const tcp = family(m, 'hubble_tcp_flags_total');
  const syn = flows.filter((f) => f.verdict === Verdict.FORWARDED && f.l4?.TCP?.flags?.SYN && !f.l4.TCP.flags.ACK && f.IP?.ipVersion === 1).length;
  assert.equal(tcp.valueOf(['SYN', 'IPv4']), syn);

  const icmp = family(m, 'hubble_icmp_total');
  assert.equal(icmp.valueOf(['IPv4', 'EchoRequest']), flows.filter((f) => f.l4?.ICMPv4?.type === 8).length);

  const ports = family(m, 'hubble_port_distribution_total');
  const to5432 = flows.filter(
    (f) => (f.verdict === Verdict.FORWARDED || f.verdict === Verdict.REDIRECTED) && f.l4?.TCP?.destination_port === 5432 && !f.is_reply?.value,
  ).length;
  assert.equal(ports.valueOf(['TCP', '5432']) ?? 0, to5432);

  const world = family(m, 'hubble_flows_to_world_total');
  assert.deepEqual(world.labelNames, ['protocol', 'verdict', 'port']);
  const toWorldSyn = flows.filter(
    (f) =>
      f.destination?.identity === 2 && f.verdict === Verdict.FORWARDED && f.l4?.TCP?.flags?.SYN && !f.l4.TCP.flags.ACK && f.l4.TCP.destination_port === 443,
  ).length;
  assert.ok(toWorldSyn > 0);
  assert.equal(world.valueOf(['TCP', 'FORWARDED', '443']), toWorldSyn);
});

test('series cap refuses and counts; idle label sets expire; new series are exposed at 0 first', async () => {
  const m = new FlowMetrics({ config: 'flow:sourceContext=ip', maxSeriesPerMetric: 3, expireAfterMs: 60_000 });
  const r = new Registry();
  m.register(r);
  const flow = (ip: string): Flow => ({
    verdict: 1,
    IP: { source: ip, destination: '10.0.0.1' },
    l4: { UDP: { source_port: 1, destination_port: 2 } },
    event_type: { type: 4, sub_type: 0 },
  });
  m.beginBatch();
  for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.1']) m.process(flow(ip));
  const fam = family(m, 'hubble_flows_processed_total');
  assert.equal(fam.size, 3);
  const key = (ip: string) => `hubble_flows_processed_total{protocol="UDP",type="Trace",subtype="to-endpoint",verdict="FORWARDED",source="${ip}"}`;
  let s = await scrape(r);
  assert.equal(s.get(key('10.0.0.1')), 0, 'first scrape of a new series shows 0');
  assert.equal(s.get('flowscope_metrics_series_refused_total{metric="hubble_flows_processed_total"}'), 2);
  s = await scrape(r);
  assert.equal(s.get(key('10.0.0.1')), 2);
  assert.equal(s.get(key('10.0.0.4')), undefined);

  // Only 10.0.0.1 is updated later; the others expire.
  const later = Date.now() + 50_000;
  (m as unknown as { nowMs: number }).nowMs = later;
  m.process(flow('10.0.0.1'));
  m.expire(later + 30_000);
  assert.equal(fam.size, 1);
  s = await scrape(r);
  assert.equal(s.get(key('10.0.0.1')), 3);
  assert.equal(s.get(key('10.0.0.2')), undefined);
  assert.equal(s.get('flowscope_metrics_series_expired_total{metric="hubble_flows_processed_total"}'), 2);
});
