// End to end: `flowscope collector --k8s --kubeconfig FILE` against an in-process API server
// that serves the synthetic cluster as pods, services and nodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeApiServer } from '../../testing/k8s-fake-apiserver.js';
import { buildCluster } from '../synthetic/cluster.js';
import { startCollector } from '../main.js';
import type { Flow } from '../../proto/types.js';

test('collector --k8s names the synthetic cluster from the API server', async (t) => {
  const model = buildCluster({ seed: 1, nodes: 4 });
  const api = new FakeApiServer();
  const url = await api.listen();
  for (const n of model.nodes)
    api.emit('/api/v1/nodes', 'ADDED', {
      metadata: { name: n.name },
      status: {
        addresses: [
          { type: 'InternalIP', address: n.ip },
          { type: 'InternalIP', address: n.ip6 },
        ],
      },
    });
  for (const ns of new Set(model.pods.map((p) => p.namespace)))
    api.emit('/api/v1/namespaces', 'ADDED', { metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } } });
  for (const p of model.pods) {
    // The pod's own label (app or k8s-app) and service account, as the model derives its endpoint labels.
    const own = p.labels
      .find((l) => !l.startsWith('k8s:io.'))!
      .slice(4)
      .split('=');
    // Controllers name pods <deployment>-<pod-template-hash>-<suffix>, <statefulset>-<ordinal>, <daemonset>-<suffix>.
    const parts = p.name.split('-');
    const hash = p.workload.kind === 'Deployment' ? parts[parts.length - 2] : '';
    const owner =
      p.workload.kind === 'Deployment' ? { kind: 'ReplicaSet', name: `${p.workload.name}-${hash}` } : { kind: p.workload.kind, name: p.workload.name };
    api.emit('/api/v1/pods', 'ADDED', {
      metadata: {
        name: p.name,
        namespace: p.namespace,
        generateName: `${owner.name}-`,
        labels: hash ? { [own[0]]: own[1], 'pod-template-hash': hash } : { [own[0]]: own[1] },
        ownerReferences: [{ ...owner, controller: true }],
      },
      spec: { nodeName: p.node, serviceAccountName: p.app === 'kube-dns' ? 'coredns' : p.app },
      status: { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }, { ip: p.ip6 }] },
    });
  }
  for (const s of model.services) {
    api.emit('/api/v1/services', 'ADDED', {
      metadata: { name: s.name, namespace: s.namespace },
      spec: { clusterIP: s.clusterIP, ports: s.ports.map((p) => ({ port: p.port, protocol: p.protocol })) },
    });
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'flowscope-k8s-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'c',
      clusters: [{ name: 'fake', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 'x' } }],
      contexts: [{ name: 'c', context: { cluster: 'fake', user: 'u' } }],
    }),
  );
  const node = model.nodes[1];
  const c = await startCollector({
    source: { kind: 'synthetic', rate: 2000, seed: 1, node: '1', clusterNodes: 4 },
    nodeName: node.name,
    relay: null,
    listen: '127.0.0.1:0',
    ringCapacity: 4095,
    maxUnackedFlows: 1000,
    kubernetes: { kubeconfig, clusterName: model.cluster },
  });
  t.after(async () => {
    await c.stop();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const flows: Flow[] = [];
  const end = Date.now() + 15_000;
  while (flows.length < 300 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    flows.length = 0;
    for await (const f of c.ring.query({
      whitelist: [],
      blacklist: [],
      predicate: () => true,
      number: 0,
      first: true,
      upTo: Infinity,
      signal: new AbortController().signal,
    }))
      flows.push(f);
  }
  assert.ok(flows.length >= 300, `only ${flows.length} flows`);
  const podOf = new Map(
    model.pods.flatMap(
      (p) =>
        [
          [p.ip, p],
          [p.ip6, p],
        ] as const,
    ),
  );
  let named = 0;
  for (const f of flows) {
    assert.ok(f.node_name === `${model.cluster}/${node.name}`, f.node_name);
    for (const [ip, ep] of [
      [f.IP?.source, f.source],
      [f.IP?.destination, f.destination],
    ] as const) {
      const p = ip ? podOf.get(ip) : undefined;
      if (!p) continue;
      named++;
      assert.equal(ep?.pod_name, p.name);
      assert.equal(ep?.namespace, p.namespace);
      assert.equal(ep?.cluster_name, model.cluster);
      assert.deepEqual(ep?.workloads, [p.workload]);
      // The same endpoint labels the synthetic cluster (modelled on Cilium's) gives its pods.
      assert.deepEqual(ep?.labels, p.labels);
    }
    const svc = model.services.find((s) => s.clusterIP === f.IP?.destination);
    const port = f.l4?.TCP?.destination_port ?? f.l4?.UDP?.destination_port;
    if (svc && svc.ports.some((p) => p.port === port)) assert.deepEqual(f.destination_service, { name: svc.name, namespace: svc.namespace });
  }
  assert.ok(named > 100, `only ${named} endpoints named`);
});
