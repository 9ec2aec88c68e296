import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { FakeApiServer } from '../../testing/k8s-fake-apiserver.js';
import { K8sClusterState, podLabels, podWorkload, type PodObject } from './k8s-state.js';
import { KubernetesEnricher } from './k8s.js';
import { KubernetesWatcher, loadKubeConfig } from './k8s-watch.js';
import type { Flow } from '../../proto/types.js';

const PODS = '/api/v1/pods',
  SERVICES = '/api/v1/services',
  NODES = '/api/v1/nodes',
  NAMESPACES = '/api/v1/namespaces';
const SLICES = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';
const quiet = pino({ level: 'silent' });

const flow = (src: string, dst: string, sport = 40000, dport = 8080, sid = 0): Flow => ({
  IP: { source: src, destination: dst, ipVersion: 1 },
  l4: { TCP: { source_port: sport, destination_port: dport } },
  source: sid ? { identity: sid } : {},
  destination: {},
});

function pod(
  name: string,
  ip: string,
  over: { labels?: Record<string, string>; owner?: { kind: string; name: string }; node?: string; namespace?: string; phase?: string } = {},
) {
  return {
    metadata: {
      name,
      namespace: over.namespace ?? 'shop',
      generateName: over.owner ? `${over.owner.name}-` : undefined,
      labels: over.labels ?? { app: name },
      ownerReferences: over.owner ? [{ apiVersion: 'apps/v1', kind: over.owner.kind, name: over.owner.name, uid: 'u1', controller: true }] : undefined,
    },
    spec: { nodeName: over.node ?? 'node-a', serviceAccountName: 'sa1', containers: [] },
    status: { phase: over.phase ?? 'Running', podIP: ip, podIPs: [{ ip }] },
  };
}
const node = (name: string, ip: string) => ({
  metadata: { name },
  status: {
    addresses: [
      { type: 'InternalIP', address: ip },
      { type: 'Hostname', address: name },
    ],
  },
});
const service = (name: string, vip: string, port: number) => ({
  metadata: { name, namespace: 'shop' },
  spec: { clusterIP: vip, clusterIPs: [vip], ports: [{ port, protocol: 'TCP' }] },
});

function kubeConfigFor(server: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'x' }],
    contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
    currentContext: 'c',
  });
  return kc;
}

// Waits for an asynchronous watch effect; fails with `what` if it never happens.
async function until(what: string, cond: () => boolean, maxMs = 10_000): Promise<void> {
  const end = Date.now() + maxMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('workload from the owner chain, as Cilium derives it for Hubble', () => {
  const w = (kind: string, name: string, labels: Record<string, string> = {}) =>
    podWorkload(pod('p', '10.0.0.1', { owner: { kind, name }, labels }) as PodObject);
  assert.deepEqual(w('ReplicaSet', 'frontend-5d9c7f8b4', { 'pod-template-hash': '5d9c7f8b4' }), { name: 'frontend', kind: 'Deployment' });
  assert.deepEqual(w('ReplicaSet', 'bare-rs'), { name: 'bare-rs', kind: 'ReplicaSet' });
  assert.deepEqual(w('Job', 'backup-28911520'), { name: 'backup', kind: 'CronJob' });
  assert.deepEqual(w('Job', 'migrate'), { name: 'migrate', kind: 'Job' });
  assert.deepEqual(w('StatefulSet', 'db'), { name: 'db', kind: 'StatefulSet' });
  assert.deepEqual(w('DaemonSet', 'agent'), { name: 'agent', kind: 'DaemonSet' });
  assert.equal(podWorkload(pod('static', '10.0.0.2') as PodObject), undefined);
});

test('endpoint labels: identity-relevant pod labels plus namespace, service account and cluster', () => {
  const p = pod('web', '10.0.0.3', {
    labels: { app: 'web', 'pod-template-hash': 'abc', 'app.kubernetes.io/name': 'web', 'kubernetes.io/os': 'linux', 'controller-revision-hash': 'x' },
  });
  assert.deepEqual(podLabels(p as PodObject, 'prod', { 'kubernetes.io/metadata.name': 'shop' }), [
    'k8s:app.kubernetes.io/name=web',
    'k8s:app=web',
    'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop',
    'k8s:io.cilium.k8s.policy.cluster=prod',
    'k8s:io.cilium.k8s.policy.serviceaccount=sa1',
    'k8s:io.kubernetes.pod.namespace=shop',
  ]);
});

test('deleted pods resolve for the grace period, then not; a new pod reusing the IP wins at once', () => {
  let now = 1_000_000;
  const st = new K8sClusterState('c1', 30_000, () => now);
  const e = new KubernetesEnricher(st, 'node-a');
  st.upsertPod(pod('a', '10.244.1.5') as PodObject);
  st.deletePod(pod('a', '10.244.1.5') as PodObject);
  now += 29_000;
  const f = flow('10.244.1.5', '8.8.8.8');
  e.enrich(f);
  assert.equal(f.source!.pod_name, 'a');
  now += 1_000;
  const g = flow('10.244.1.5', '8.8.8.8');
  e.enrich(g);
  assert.deepEqual(g.source, { identity: 2, labels: ['reserved:world'] });
  st.sweep(true);
  assert.equal(st.counters.pods, 0);
  assert.equal(st.counters.podIps, 0);
  assert.equal(st.counters.expired, 1);
  // Reuse during the grace period.
  st.upsertPod(pod('b', '10.244.1.6') as PodObject);
  st.deletePod(pod('b', '10.244.1.6') as PodObject);
  st.upsertPod(pod('c', '10.244.1.6') as PodObject);
  now += 60_000;
  st.sweep(true);
  const h = flow('10.244.1.6', '8.8.8.8');
  e.enrich(h);
  assert.equal(h.source!.pod_name, 'c');
  // Host-network and finished pods are not endpoints.
  st.upsertPod({ ...pod('hn', '172.18.0.2'), spec: { nodeName: 'node-a', hostNetwork: true } } as PodObject);
  assert.equal(st.podByIP('172.18.0.2'), undefined);
  st.upsertPod(pod('c', '10.244.1.6', { phase: 'Succeeded' }) as PodObject);
  now += 30_000;
  assert.equal(st.podByIP('10.244.1.6'), undefined);
});

test('watch: pods, services, nodes, apiserver; delete, dropped connection resumes, 410 re-lists', async (t) => {
  const api = new FakeApiServer();
  const url = await api.listen();
  api.emit(NODES, 'ADDED', node('node-a', '172.18.0.2'));
  api.emit(NODES, 'ADDED', node('node-b', '172.18.0.3'));
  api.emit(NAMESPACES, 'ADDED', { metadata: { name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop' } } });
  api.emit(
    PODS,
    'ADDED',
    pod('frontend-5d9c7f8b4-x2x9z', '10.244.1.5', {
      owner: { kind: 'ReplicaSet', name: 'frontend-5d9c7f8b4' },
      labels: { app: 'frontend', 'pod-template-hash': '5d9c7f8b4' },
    }),
  );
  api.emit(SERVICES, 'ADDED', service('db', '10.96.3.4', 5432));
  api.emit(SLICES, 'ADDED', {
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    endpoints: [{ addresses: ['172.18.0.9'] }],
  });

  let graceNow = 1_000;
  const st = new K8sClusterState('c1', 5_000, () => graceNow);
  const watcher = new KubernetesWatcher(st, quiet, { kubeConfig: kubeConfigFor(url), retryMinMs: 20, retryMaxMs: 100 });
  t.after(async () => {
    await watcher.stop();
    await api.close();
  });
  await watcher.start();
  const enricher = new KubernetesEnricher(st, 'node-a');

  // Initial lists: every collection listed once, then watched from the list's version.
  for (const p of [PODS, SERVICES, NODES, NAMESPACES, SLICES]) assert.equal(api.requests.filter((r) => r.path === p && !r.watch).length, 1, p);
  assert.ok(api.requests.some((r) => r.path === SLICES && r.labelSelector === 'kubernetes.io/service-name=kubernetes'));

  const f = flow('10.244.1.5', '10.96.3.4', 40000, 5432);
  enricher.enrich(f);
  assert.deepEqual(f.source, {
    cluster_name: 'c1',
    namespace: 'shop',
    pod_name: 'frontend-5d9c7f8b4-x2x9z',
    labels: [
      'k8s:app=frontend',
      'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop',
      'k8s:io.cilium.k8s.policy.cluster=c1',
      'k8s:io.cilium.k8s.policy.serviceaccount=sa1',
      'k8s:io.kubernetes.pod.namespace=shop',
    ],
    workloads: [{ name: 'frontend', kind: 'Deployment' }],
  });
  // Namespace labels changed → the pods' endpoint labels follow.
  api.emit(NAMESPACES, 'MODIFIED', { metadata: { name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop', team: 'web' } } });
  await until('namespace MODIFIED applied', () => st.podByIP('10.244.1.5')!.labels.includes('k8s:io.cilium.k8s.namespace.labels.team=web'));
  assert.deepEqual(f.destination_service, { name: 'db', namespace: 'shop' });
  assert.deepEqual(f.destination, {});
  const n = flow('172.18.0.2', '172.18.0.3');
  enricher.enrich(n);
  assert.deepEqual(n.source, { identity: 1, labels: ['reserved:host'] });
  assert.deepEqual(n.destination, { identity: 6, labels: ['reserved:remote-node'] });
  const a = flow('10.244.1.5', '172.18.0.9', 40000, 6443);
  enricher.enrich(a);
  assert.deepEqual(a.destination, { identity: 7, labels: ['reserved:kube-apiserver'] });
  const w = flow('10.244.1.5', '1.1.1.1', 40000, 443, 0);
  enricher.enrich(w);
  assert.deepEqual(w.destination, { identity: 2, labels: ['reserved:world'] });
  // A record's own identity wins.
  const r = flow('10.244.1.5', '172.18.0.3', 40000, 443);
  r.destination = { identity: 4 };
  enricher.enrich(r);
  assert.deepEqual(r.destination, { identity: 4, labels: ['reserved:health'] });

  // Pod added while watching → flows enriched.
  api.emit(PODS, 'ADDED', pod('backup-28911520-abcde', '10.244.2.9', { owner: { kind: 'Job', name: 'backup-28911520' }, node: 'node-b' }));
  await until('pod ADDED applied', () => st.podByIP('10.244.2.9') !== undefined);
  const b = flow('10.244.2.9', '10.244.1.5');
  enricher.enrich(b);
  assert.deepEqual(b.source!.workloads, [{ name: 'backup', kind: 'CronJob' }]);
  assert.equal(b.destination!.pod_name, 'frontend-5d9c7f8b4-x2x9z');

  // Pod deleted → gone once the grace period is over.
  api.emit(PODS, 'DELETED', pod('backup-28911520-abcde', '10.244.2.9'));
  await until('pod DELETED applied', () => st.counters.podsDeletedPending === 1);
  assert.equal(st.podByIP('10.244.2.9')!.pod_name, 'backup-28911520-abcde');
  graceNow += 5_000;
  st.sweep(true);
  assert.equal(st.podByIP('10.244.2.9'), undefined);

  // Service MODIFIED to a new VIP; node deleted.
  api.emit(SERVICES, 'MODIFIED', service('db', '10.96.3.5', 5432));
  api.emit(NODES, 'DELETED', node('node-b', '172.18.0.3'));
  await until('service and node events applied', () => st.serviceByAddr('10.96.3.5', 5432) !== undefined && st.nodeByIP('172.18.0.3') === undefined);
  assert.equal(st.serviceByAddr('10.96.3.4', 5432), undefined);

  // Connection dropped → the watch resumes from the last resourceVersion, without a re-list.
  const listsBefore = api.requests.filter((x) => !x.watch).length;
  const lastPodRv = api.requests.filter((x) => x.path === PODS && x.watch).length;
  api.dropConnections();
  api.emit(PODS, 'ADDED', pod('late', '10.244.1.77'));
  await until('watch resumed and replayed the missed event', () => st.podByIP('10.244.1.77') !== undefined);
  const resumed = api.requests.filter((x) => x.path === PODS && x.watch).slice(lastPodRv);
  assert.ok(resumed.length >= 1 && resumed.every((x) => Number(x.resourceVersion) > 100), 'resumed with a resourceVersion');
  assert.equal(api.requests.filter((x) => !x.watch).length, listsBefore, 'no re-list after a drop');

  // History compacted while disconnected → 410 Gone → re-list; objects deleted meanwhile go away.
  for (const goneAsEvent of [false, true]) {
    api.goneAsEvent = goneAsEvent;
    const podLists = api.requests.filter((x) => x.path === PODS && !x.watch).length;
    api.dropConnections();
    api.emit(PODS, 'DELETED', pod('late', '10.244.1.77'));
    api.emit(PODS, 'ADDED', pod(`after-410-${goneAsEvent}`, goneAsEvent ? '10.244.1.91' : '10.244.1.90'));
    api.compact();
    await until(
      `re-list after 410 (${goneAsEvent ? 'ERROR event' : 'HTTP status'})`,
      () => api.requests.filter((x) => x.path === PODS && !x.watch).length > podLists,
    );
    await until('re-listed state applied', () => st.podByIP(goneAsEvent ? '10.244.1.91' : '10.244.1.90') !== undefined && st.counters.podsDeletedPending >= 1);
  }
  graceNow += 5_000;
  st.sweep(true);
  assert.equal(st.podByIP('10.244.1.77'), undefined);
  assert.ok(watcher.stats.errors >= 1);

  // BOOKMARKs are accepted (they only move the resourceVersion).
  api.bookmark(PODS);
  api.emit(PODS, 'ADDED', pod('after-bookmark', '10.244.1.92'));
  await until('event after a bookmark applied', () => st.podByIP('10.244.1.92') !== undefined);
});

test('kubeconfig: a missing file or no configuration at all fails clearly instead of trying localhost:8080', () => {
  assert.throws(() => loadKubeConfig('/nonexistent/kubeconfig'), /--k8s: cannot load the Kubernetes configuration: .*ENOENT/);
  const saved = { HOME: process.env.HOME, KUBECONFIG: process.env.KUBECONFIG, KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST };
  try {
    process.env.HOME = '/nonexistent-home';
    process.env.KUBECONFIG = '';
    delete process.env.KUBERNETES_SERVICE_HOST;
    assert.throws(() => loadKubeConfig(), /no kubeconfig: give --kubeconfig, set KUBECONFIG, or run in a pod/);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
