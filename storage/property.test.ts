// Property: for random flows and random whitelist/blacklist combinations over every filter
// kind, the SQL compilation selects exactly the flows the in-memory predicate selects.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { types, encode, decode, type Flow, type FlowFilter } from '../proto/index.js';
import { compileFlowFilters, flowFiltersToSQL, FilterError } from '../filters/index.js';
import { FlowStore } from './store.js';
import { genFlows, rng, NAMESPACES, PODS, NODES, IPS } from '../testing/gen-flows.js';

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-prop-'));
after(() => fs.rm(dir, { recursive: true, force: true }));

function randomFilter(r: () => number): FlowFilter {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const some = <T>(xs: readonly T[]): T[] => {
    const n = 1 + Math.floor(r() * 2);
    return Array.from({ length: n }, () => pick(xs));
  };
  const gens: (() => FlowFilter)[] = [
    () => ({ uuid: [`u-${Math.floor(r() * 50)}-x`] }),
    () => ({
      source_ip: some(['10.0.0.1', '10.0.0.0/8', '2001:db8::/32', '::ffff:10.0.0.0/104', '0.0.0.0/0', '::/0', '2001:DB8::2', '::ffff:10.0.0.9', '8.8.8.8/32']),
    }),
    () => ({ destination_ip: some(IPS.filter((x) => x !== '' && x !== 'garbage' && x !== '010.0.0.1').concat(['10.1.0.0/16', 'fd00::/8'])) }),
    () => ({ source_ip_xlated: some(['10.0.0.0/8', '2001:db8::1']) }),
    () => ({ ip_version: some([0, 1, 2]) }),
    () => ({ encrypted: some([true, false]) }),
    () => ({ source_pod: some([...NAMESPACES.map((n) => `${n}/`), ...PODS.map((p) => p.slice(0, 3)), 'shop/we', 'kube-system/coredns']) }),
    () => ({ destination_pod: some([...NAMESPACES.map((n) => `${n}/`), 'web', 'default/db-0']) }),
    () => ({ source_service: some(['shop/', 'web', 'default/we']) }),
    () => ({ destination_service: some(['kube-system/kube-dns', 'payments/', 'api']) }),
    () => ({
      source_label: some([
        'k8s:app=web',
        'app',
        '!app',
        'app in (web,db)',
        'app notin (web)',
        'reserved:host',
        'tier>2',
        'tier<3',
        'k8s:io.kubernetes.pod.namespace=shop,app=api',
        'foo:app',
      ]),
    }),
    () => ({ destination_label: some(['app=db', 'k8s:team', 'reserved:world', 'app!=api']) }),
    () => ({ node_labels: some(['zone=a', '!zone', 'kubernetes.io/hostname in (k8s1)']) }),
    () => ({ source_fqdn: some(['*.example.com', 'example.org', 'db.*', 'mixed.case.io']) }),
    () => ({ destination_fqdn: some(['www.example.com', '*']) }),
    () => ({ dns_query: some(['example\\.com\\.$', '^www', '.*', 'a|db', '\\d', '[a-c]+\\.', '\\s']) }),
    () => ({ verdict: some([0, 1, 2, 3, 5]) }),
    () => ({ drop_reason_desc: some([133, 181]) }),
    () => ({ traffic_direction: some([0, 1, 2]) }),
    () => ({ event_type: [{ type: pick([0, 1, 4, 129]), ...(r() < 0.5 && { match_sub_type: true, sub_type: pick([0, 3, 133]) }) }] }),
    () => ({ source_identity: some([0, 1, 42, 12345]) }),
    () => ({ destination_identity: some([0, 2, 42]) }),
    () => ({ reply: some([true, false]) }),
    () => ({ tcp_flags: [{ SYN: r() < 0.5, ACK: r() < 0.5 }, ...(r() < 0.3 ? [{ FIN: true }] : [])] }),
    () => ({ source_port: some(['0', '1', '80', '443', '53']) }),
    () => ({ destination_port: some(['80', '53', '0', '2']) }),
    () => ({ protocol: some(['tcp', 'UDP', 'icmp', 'icmpv6', 'sctp', 'dns', 'http', 'kafka']) }),
    () => ({ source_cluster_name: some(['c1', 'c2']) }),
    () => ({ destination_cluster_name: ['c2'] }),
    () => ({ interface: [{ ...(r() < 0.5 && { index: pick([3, 7]) }), ...(r() < 0.5 && { name: pick(['eth0', 'lxc12ab']) }) }] }),
    () => ({ source_workload: [{ ...(r() < 0.6 && { name: pick(['web', 'api', '']) }), ...(r() < 0.6 && { kind: pick(['Deployment', 'Job']) }) }] }),
    () => ({ destination_workload: [{ kind: 'StatefulSet' }] }),
    () => ({ node_name: some([...NODES, 'k8s*', 'prod/', '*/worker-*', 'default/k8s1', 'other/']) }),
    () => ({ http_status_code: some(['200', '404', '5+', '4+', '20+']) }),
    () => ({ http_method: some(['get', 'POST', 'put']) }),
    () => ({ http_path: some(['^/api', '^/p q$', 'cart', '^/a/b$', '']) }),
    () => ({ http_url: some(['cart', '^/', 'x=1$']) }),
    () => ({ http_header: [{ ...(r() < 0.7 && { key: 'x-user' }), ...(r() < 0.5 && { value: pick(['bob', 'eve']) }) }] }),
    () => ({ trace_id: some(['t1', 't2', '']) }),
    () => ({ ip_trace_id: some([0, 7, 9]) }),
  ];
  const n = Math.floor(r() * 3) + (r() < 0.05 ? 0 : 1);
  const ff: FlowFilter = {};
  for (let i = 0; i < n; i++) Object.assign(ff, pick(gens)());
  return ff;
}

test('SQL and predicate select the same flows', async () => {
  const flows = genFlows(4000, 99).map((f) => decode<Flow>(types.Flow, encode(types.Flow, f)));
  const store = await FlowStore.open({ path: dir });
  await store.insert(flows);
  const all = [];
  for await (const f of store.queryFlows({})) all.push(f);
  const r = rng(12345);
  let checked = 0,
    nonTrivial = 0;
  for (let i = 0; i < 300; i++) {
    const whitelist = Array.from({ length: Math.floor(r() * 3) }, () => randomFilter(r));
    const blacklist = Array.from({ length: r() < 0.4 ? 1 + Math.floor(r() * 2) : 0 }, () => randomFilter(r));
    let pred: (f: Flow) => boolean;
    try {
      pred = compileFlowFilters(whitelist, blacklist);
    } catch (e) {
      // Invalid combinations (e.g. http_* with a non-L7 event_type) must fail both ways.
      assert.ok(e instanceof FilterError);
      assert.throws(() => flowFiltersToSQL(whitelist, blacklist), FilterError);
      continue;
    }
    const want = all
      .filter(pred)
      .map((f) => f.uuid)
      .sort();
    const got: string[] = [];
    for await (const f of store.queryFlows({ whitelist, blacklist })) got.push(f.uuid!);
    got.sort();
    assert.deepStrictEqual(got, want, JSON.stringify({ whitelist, blacklist }));
    checked++;
    if (want.length > 0 && want.length < all.length) nonTrivial++;
  }
  assert.ok(checked > 250, `only ${checked} valid queries`);
  assert.ok(nonTrivial > 150, `only ${nonTrivial} queries selected a proper subset`);
  await store.close();
});
