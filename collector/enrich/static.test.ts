import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StaticInventoryEnricher } from './static.js';
import { InventoryError, validateInventory, type Inventory } from './inventory.js';
import type { Flow } from '../../proto/types.js';

const inv: Inventory = {
  cluster: 'c1',
  nodes: [
    { name: 'n1', ips: ['172.18.0.2'] },
    { name: 'n2', ips: ['172.18.0.3'] },
  ],
  endpoints: [
    {
      node: 'n1',
      id: 101,
      namespace: 'shop',
      pod_name: 'frontend-abc-12345',
      ips: ['10.244.1.5'],
      identity: 5001,
      labels: ['k8s:io.kubernetes.pod.namespace=shop', 'k8s:app=frontend'],
      workloads: [{ name: 'frontend', kind: 'Deployment' }],
    },
    { node: 'n2', id: 202, namespace: 'shop', pod_name: 'db-0', ips: ['10.244.2.7'], identity: 5002, labels: ['k8s:app=db'] },
  ],
  services: [{ namespace: 'shop', name: 'db', clusterIPs: ['10.96.3.4'], ports: [{ port: 5432, protocol: 'TCP' }] }],
  external: [{ ip: '140.82.121.4', names: ['github.com'] }],
  kubeApiserver: ['172.18.0.9'],
};

const flow = (src: string, dst: string, sid = 0, did = 0, dport = 5432): Flow => ({
  IP: { source: src, destination: dst, ipVersion: 1 },
  l4: { TCP: { source_port: 40000, destination_port: dport } },
  source: sid ? { identity: sid } : {},
  destination: did ? { identity: did } : {},
  node_name: 'c1/n1',
});

test('pods, services, local endpoint IDs, sorted labels', () => {
  const e = new StaticInventoryEnricher(inv, { nodeName: 'n1' });
  const f = flow('10.244.1.5', '10.244.2.7');
  e.enrich(f);
  assert.deepEqual(f.source, {
    ID: 101,
    identity: 5001,
    cluster_name: 'c1',
    namespace: 'shop',
    pod_name: 'frontend-abc-12345',
    labels: ['k8s:app=frontend', 'k8s:io.kubernetes.pod.namespace=shop'],
    workloads: [{ name: 'frontend', kind: 'Deployment' }],
  });
  assert.deepEqual(f.destination, { identity: 5002, cluster_name: 'c1', namespace: 'shop', pod_name: 'db-0', labels: ['k8s:app=db'] });
  assert.equal(e.localEndpointId('10.244.1.5'), 101);
  assert.equal(e.localEndpointId('10.244.2.7'), 0);
  const g = flow('10.244.1.5', '10.96.3.4');
  e.enrich(g);
  assert.deepEqual(g.destination_service, { name: 'db', namespace: 'shop' });
  assert.deepEqual(g.destination, {});
});

test('node IPs, apiserver, world; record identities win', () => {
  const e = new StaticInventoryEnricher(inv); // node from flow.node_name
  const f = flow('172.18.0.2', '172.18.0.3');
  e.enrich(f);
  assert.deepEqual(f.source, { identity: 1, labels: ['reserved:host'] });
  assert.deepEqual(f.destination, { identity: 6, labels: ['reserved:remote-node'] });
  const g = flow('172.18.0.9', '140.82.121.4');
  e.enrich(g);
  assert.deepEqual(g.source, { identity: 7, labels: ['reserved:kube-apiserver'] });
  assert.deepEqual(g.destination, { identity: 2, labels: ['reserved:world'] });
  assert.deepEqual(g.destination_names, ['github.com']);
  const h = flow('8.8.8.8', '10.244.1.5', 4, 0);
  e.enrich(h);
  assert.deepEqual(h.source, { identity: 4, labels: ['reserved:health'] });
  assert.equal(h.destination!.ID, 101);
});

test('validation names the bad field', () => {
  assert.throws(
    () => validateInventory({ ...inv, endpoints: [{ ...inv.endpoints[0], ips: ['10.0.0.300'] }] }),
    (e: Error) => e instanceof InventoryError && /\$\.endpoints\[0\]\.ips\[0\]/.test(e.message),
  );
  assert.throws(() => validateInventory({ ...inv, endpoints: [{ ...inv.endpoints[0], node: 'nx' }] }), /unknown node "nx"/);
  assert.throws(
    () => validateInventory({ ...inv, services: [{ ...inv.services[0], ports: [{ port: 0, protocol: 'TCP' }] }] }),
    /\$\.services\[0\]\.ports\[0\]\.port/,
  );
  assert.throws(() => validateInventory({ ...inv, endpoints: [{ ...inv.endpoints[0], labels: ['app=x'] }] }), /source:key=value/);
  assert.throws(() => validateInventory([]), /\$: must be an object/);
});
