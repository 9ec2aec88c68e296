import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCluster, toInventory } from './cluster.js';
import { validateInventory } from '../enrich/inventory.js';
import { StaticInventoryEnricher } from '../enrich/static.js';
import { MonitorDecoder } from '../decode/decoder.js';
import { SyntheticSource } from '../sources/synthetic.js';
import type { RawRecord } from '../source.js';
import { DNS_FAIL_NAMES, parseScenarioWeights, SCENARIOS, type Scenario } from './traffic.js';

test('cluster model: deterministic, realistic, valid inventory', () => {
  const a = buildCluster({ seed: 7 }),
    b = buildCluster({ seed: 7 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(
    a.pods.map((p) => p.name),
    buildCluster({ seed: 8 }).pods.map((p) => p.name),
  );
  assert.ok(a.nodes.length >= 3);
  for (const p of a.pods) {
    assert.ok(p.identity >= 256);
    assert.ok(p.ip.startsWith(`10.244.${p.nodeIndex}.`));
    assert.ok(p.labels.includes(`k8s:io.kubernetes.pod.namespace=${p.namespace}`));
    assert.ok(p.labels.includes(`k8s:io.cilium.k8s.policy.cluster=${a.cluster}`));
    if (p.workload.kind === 'Deployment')
      assert.match(p.name, new RegExp(`^${p.workload.name}-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
  }
  assert.ok(a.pods.some((p) => p.namespace === 'kube-system' && p.app === 'kube-dns'));
  assert.ok(a.services.some((s) => s.clusterIP === '10.96.0.10'));
  // Endpoint IDs are unique per node.
  for (const n of a.nodes) {
    const ids = a.pods.filter((p) => p.node === n.name).map((p) => p.endpointId);
    assert.equal(new Set(ids).size, ids.length);
  }
  validateInventory(JSON.parse(JSON.stringify(toInventory(a))));
});

test('synthetic records decode cleanly and cover the traffic mix', () => {
  const seen = new Set<string>();
  for (const nodeIndex of [0, 1, 2]) {
    const model = buildCluster({ seed: 3 });
    const src = new SyntheticSource({ seed: 3, model, nodeName: model.nodes[nodeIndex].name });
    const enr = new StaticInventoryEnricher(toInventory(model), { nodeName: src.nodeName });
    const dec = new MonitorDecoder({ nodeName: src.nodeName, localEndpointId: enr.localEndpointId, l7Dns: true });
    for (const r of src.take(6000, 1.7e18)) {
      const f0 = dec.decode(r);
      assert.ok(f0, 'every synthetic record decodes');
      for (const f of [f0, ...dec.l7Flows]) {
        enr.enrich(f);
        seen.add(`type${f.event_type!.type}`);
        if (f.drop_reason_desc) seen.add(`drop${f.drop_reason_desc}`);
        if (f.l7?.dns?.rcode === 3) seen.add('nxdomain');
        if (f.l7?.dns?.ips) seen.add('dns-answer');
        if (f.IP?.ipVersion === 2) seen.add('ipv6');
        if (f.l4?.ICMPv4) seen.add('icmp');
        if (f.tunnel) seen.add('overlay');
        if (f.IP?.source_xlated) seen.add('snat');
        if (f.destination?.labels?.includes('reserved:world')) seen.add('world');
        if (f.verdict === 2 && f.event_type!.type === 5) seen.add('pv-denied');
        if (f.traffic_direction === 1) seen.add('ingress');
        if (f.traffic_direction === 2) seen.add('egress');
        if (f.is_reply?.value) seen.add('reply');
        if (f.l7?.latency_ns) seen.add('dns-latency');
      }
    }
    assert.equal(dec.stats.badPacket + dec.stats.truncated + dec.stats.badLength, 0);
  }
  for (const k of [
    'type1',
    'type4',
    'type5',
    'drop133',
    'drop181',
    'drop155',
    'drop151',
    'drop139',
    'nxdomain',
    'dns-answer',
    'ipv6',
    'icmp',
    'overlay',
    'snat',
    'world',
    'pv-denied',
    'ingress',
    'egress',
    'reply',
    'type129',
    'dns-latency',
  ]) {
    assert.ok(seen.has(k), `${k} present`);
  }
});

test('same seed, same records; surge multiplies policy denies', () => {
  const a = new SyntheticSource({ seed: 5 }).take(500, 0).map((r) => Buffer.from(r.data).toString('hex'));
  const b = new SyntheticSource({ seed: 5 }).take(500, 0).map((r) => Buffer.from(r.data).toString('hex'));
  assert.deepEqual(a, b);
  const denies = (surge: number) =>
    new SyntheticSource({ seed: 5, policyDenySurge: surge }).take(5000, 0).filter((r) => r.data[0] === 5 && r.data[20] === 0x7b).length;
  assert.ok(denies(20) > 4 * denies(1), `surge: ${denies(20)} vs ${denies(1)}`);
});

test('timer-driven rate and high-rate pool mode', async () => {
  const got: RawRecord[] = [];
  const src = new SyntheticSource({ seed: 1, rate: 200, tickMs: 20 });
  await src.start({ records: (b) => got.push(...b), lost: () => {} });
  await new Promise((r) => setTimeout(r, 520));
  await src.stop();
  assert.ok(got.length >= 60 && got.length <= 130, `~100 records in 0.5 s at 200/s, got ${got.length}`);
  // Above freshUpTo, conversations come from a bounded pool (copied per emission) instead of
  // being generated anew: the payloads repeat, and no two records share a buffer. (Its speed is
  // a benchmark matter: loadtest/, not a test.)
  const fast = new SyntheticSource({ seed: 1, rate: 200_000, poolSize: 16 });
  const recs = fast.take(100_000);
  assert.equal(recs.length, 100_000);
  const distinct = new Set(recs.map((r) => Buffer.from(r.data).toString('hex')));
  assert.ok(distinct.size < 10_000, `pooled payloads repeat: ${distinct.size} distinct of 100k`);
  assert.equal(new Set(recs.map((r) => r.data)).size, recs.length, 'every emission is its own copy');
  const fresh = new SyntheticSource({ seed: 1, rate: 1000 }).take(20_000);
  assert.ok(new Set(fresh.map((r) => Buffer.from(r.data).toString('hex'))).size > 10_000, 'below freshUpTo every conversation is new');
});

test('the failure scenarios of `why`: off by default, on by weight, decoded into the flows why reads', () => {
  const model = buildCluster({ seed: 1, nodes: 4 });
  const nodeName = model.nodes[3].name;
  const only: Partial<Record<Scenario, number>> = Object.fromEntries(SCENARIOS.map((s) => [s, 0]));
  const decodeAll = (src: SyntheticSource, n: number) => {
    const enr = new StaticInventoryEnricher(toInventory(model), { nodeName });
    const dec = new MonitorDecoder({ nodeName, localEndpointId: enr.localEndpointId, l7Dns: true });
    const flows = [];
    for (const r of src.take(n, 1.7e18)) {
      const f0 = dec.decode(r)!;
      for (const f of [f0, ...dec.l7Flows]) {
        enr.enrich(f);
        flows.push(f);
      }
    }
    assert.equal(dec.stats.badPacket + dec.stats.truncated + dec.stats.badLength, 0);
    return flows;
  };
  const app = (e: { labels?: string[] } | undefined) => e?.labels?.find((l) => l.startsWith('k8s:app='))?.slice(8);

  const defaults = decodeAll(new SyntheticSource({ seed: 1, model, nodeName }), 4000);
  assert.ok(!defaults.some((f) => f.drop_reason_desc === 136 || f.l4?.ICMPv4?.type === 3), 'off by default');

  const refused = decodeAll(new SyntheticSource({ seed: 1, model, nodeName, weights: { ...only, refused: 1 } }), 400);
  const rsts = refused.filter((f) => f.l4?.TCP?.flags?.RST && app(f.source) === 'cart' && app(f.destination) === 'frontend');
  assert.ok(rsts.length > 0 && rsts.every((f) => f.is_reply?.value === true || f.trace_observation_point === 9));
  assert.ok(!refused.some((f) => f.l4?.TCP?.flags?.SYN && f.l4.TCP.flags.ACK), 'no SYN-ACK ever');
  assert.ok(refused.some((f) => f.l7?.dns?.query === 'cart.shop.svc.cluster.local.' && f.l7.dns.ips?.length === 1));

  const silent = decodeAll(new SyntheticSource({ seed: 1, model, nodeName, weights: { ...only, unanswered: 1 } }), 300);
  assert.ok(silent.length > 0);
  for (const f of silent) {
    assert.equal(app(f.source), 'frontend');
    assert.equal(app(f.destination), 'redis');
    assert.deepEqual(f.l4?.TCP?.flags, { SYN: true });
  }

  const mtu = decodeAll(new SyntheticSource({ seed: 1, model, nodeName, weights: { ...only, mtu: 1 } }), 400);
  const fragDrops = mtu.filter((f) => f.drop_reason_desc === 136);
  const icmp = mtu.filter((f) => f.l4?.ICMPv4?.type === 3 && f.l4.ICMPv4.code === 4);
  assert.ok(fragDrops.length > 0);
  assert.ok(Math.abs(fragDrops.length - icmp.length) <= 1);
  for (const f of icmp) {
    assert.equal(f.IP?.source, model.nodes[3].ip);
    assert.equal(app(f.destination), 'cart');
  }
  for (const f of fragDrops) assert.equal(app(f.destination), 'db');

  const dns = decodeAll(new SyntheticSource({ seed: 1, model, nodeName, weights: { ...only, dnsFail: 1 } }), 600).filter((f) => f.l7?.dns);
  const rcodes = (q: string) => dns.filter((f) => f.l7!.dns!.query === q && f.l7!.type === 2).map((f) => f.l7!.dns!.rcode ?? 0);
  const asked = (q: string) => dns.filter((f) => f.l7!.dns!.query === q && f.l7!.type === 1).length;
  assert.ok(rcodes(DNS_FAIL_NAMES.nxdomain).length > 0 && rcodes(DNS_FAIL_NAMES.nxdomain).every((r) => r === 3));
  assert.ok(rcodes(DNS_FAIL_NAMES.servfail).length > 0 && rcodes(DNS_FAIL_NAMES.servfail).every((r) => r === 2));
  assert.ok(asked(DNS_FAIL_NAMES.timeout) > 0);
  assert.deepEqual(rcodes(DNS_FAIL_NAMES.timeout), [], 'never answered');
});

test('--synthetic-weights parses name=weight lists and rejects the rest', () => {
  assert.deepEqual(parseScenarioWeights('refused=5, mtu=0,ipv6=2'), { refused: 5, mtu: 0, ipv6: 2 });
  assert.deepEqual(parseScenarioWeights(''), {});
  assert.throws(() => parseScenarioWeights('bogus=1'), /unknown scenario "bogus"/);
  assert.throws(() => parseScenarioWeights('http'), /not name=weight/);
  assert.throws(() => parseScenarioWeights('http=1001'), /0\.\.1000/);
  assert.throws(() => parseScenarioWeights(SCENARIOS.map((s) => `${s}=0`).join(',')), /every scenario would have weight 0/);
});
