// Keeps K8sClusterState current with @kubernetes/client-node informers (list, then watch from
// the list's resourceVersion): pods, services, nodes and namespaces cluster-wide, and the EndpointSlices of
// default/kubernetes (the kube-apiserver addresses). The informer resumes a dropped watch from the
// last resourceVersion it saw and re-lists on 410 Gone; other errors (connection refused, reset,
// 5xx, 403) stop it, and this module restarts it with capped exponential backoff — from the last
// resourceVersion, so a dropped connection costs no re-list.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../common/logger.js';
import type { EndpointSliceObject, K8sClusterState, NamespaceObject, NodeObject, PodObject, ServiceObject } from './k8s-state.js';

export interface KubernetesWatchOptions {
  /** A kubeconfig file; without it the in-cluster service account when running in a pod, else $KUBECONFIG / ~/.kube/config. */
  kubeconfig?: string;
  /** Use this configuration instead (tests). */
  kubeConfig?: k8s.KubeConfig;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export interface KubernetesWatchStats {
  /** Completed list calls (initial lists and re-lists after 410 Gone or a failed list). */
  lists: number;
  /** Watch connections opened. */
  watches: number;
  /** ADDED / MODIFIED / DELETED events applied (list items included). */
  events: number;
  /** Errors that stopped an informer (each followed by a restart). */
  errors: number;
}

/** The Kubernetes configuration flowscope uses: explicit file, in-cluster, or the default chain. */
export function loadKubeConfig(file?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  const kubeconfigEnv = process.env.KUBECONFIG ?? '';
  const homeConfig = path.join(os.homedir(), '.kube', 'config');
  try {
    if (file) kc.loadFromFile(file);
    else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    // Without any source client-node would silently fall back to http://localhost:8080.
    else if (kubeconfigEnv === '' && !existsSync(homeConfig)) throw new Error('no kubeconfig: give --kubeconfig, set KUBECONFIG, or run in a pod');
    else kc.loadFromDefault();
  } catch (err) {
    throw new Error(`--k8s: cannot load the Kubernetes configuration: ${(err as Error).message}`);
  }
  if (!kc.getCurrentCluster()) throw new Error(`--k8s: no current Kubernetes cluster in the configuration${file ? ` ${file}` : ''}`);
  return kc;
}

interface Watched<T> {
  name: string;
  path: string;
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  labelSelector?: string;
  upsert: (o: T) => void;
  remove: (o: T) => void;
}

export class KubernetesWatcher {
  readonly stats: KubernetesWatchStats = { lists: 0, watches: 0, events: 0, errors: 0 };
  private readonly kc: k8s.KubeConfig;
  private readonly informers: k8s.Informer<k8s.KubernetesObject>[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private sweeper: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;

  constructor(
    private readonly state: K8sClusterState,
    private readonly log: Logger,
    opts: KubernetesWatchOptions = {},
  ) {
    this.kc = opts.kubeConfig ?? loadKubeConfig(opts.kubeconfig);
    this.retryMinMs = opts.retryMinMs ?? 500;
    this.retryMaxMs = opts.retryMaxMs ?? 30_000;
  }

  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '';
  }

  /** Starts every watch; resolves once each resource has been listed once (the cache is synced). */
  start(): Promise<void> {
    const core = this.kc.makeApiClient(k8s.CoreV1Api);
    const discovery = this.kc.makeApiClient(k8s.DiscoveryV1Api);
    const st = this.state;
    const synced = [
      this.watch<PodObject>({
        name: 'pods',
        path: '/api/v1/pods',
        list: () => core.listPodForAllNamespaces() as Promise<{ items: PodObject[] }>,
        upsert: (o) => st.upsertPod(o),
        remove: (o) => st.deletePod(o),
      }),
      this.watch<ServiceObject>({
        name: 'services',
        path: '/api/v1/services',
        list: () => core.listServiceForAllNamespaces() as Promise<{ items: ServiceObject[] }>,
        upsert: (o) => st.upsertService(o),
        remove: (o) => st.deleteService(o),
      }),
      this.watch<NodeObject>({
        name: 'nodes',
        path: '/api/v1/nodes',
        list: () => core.listNode() as Promise<{ items: NodeObject[] }>,
        upsert: (o) => st.upsertNode(o),
        remove: (o) => st.deleteNode(o),
      }),
      this.watch<NamespaceObject>({
        name: 'namespaces',
        path: '/api/v1/namespaces',
        list: () => core.listNamespace() as Promise<{ items: NamespaceObject[] }>,
        upsert: (o) => st.upsertNamespace(o),
        remove: (o) => st.deleteNamespace(o),
      }),
      this.watch<EndpointSliceObject>({
        name: 'endpointslices',
        path: '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices',
        labelSelector: 'kubernetes.io/service-name=kubernetes',
        list: () =>
          discovery.listNamespacedEndpointSlice({ namespace: 'default', labelSelector: 'kubernetes.io/service-name=kubernetes' }) as Promise<{
            items: EndpointSliceObject[];
          }>,
        upsert: (o) => st.upsertApiserverSlice(o),
        remove: (o) => st.deleteApiserverSlice(o),
      }),
    ];
    // Deleted pods past their grace period leave the maps (lookups already ignore them).
    this.sweeper = setInterval(() => st.sweep(true), 1000);
    this.sweeper.unref();
    return Promise.all(synced).then(() => undefined);
  }

  private watch<T>(w: Watched<T>): Promise<void> {
    let markSynced!: () => void;
    const synced = new Promise<void>((r) => {
      markSynced = r;
    });
    let failures = 0;
    const list = async () => {
      const res = await w.list();
      this.stats.lists++;
      failures = 0;
      // The informer diffs the list against its cache and calls add/update/delete itself.
      queueMicrotask(markSynced);
      return res as unknown as k8s.KubernetesListObject<k8s.KubernetesObject>;
    };
    const inf = k8s.makeInformer(this.kc, w.path, list, w.labelSelector);
    const apply = (fn: (o: T) => void) => (o: k8s.KubernetesObject) => {
      this.stats.events++;
      try {
        fn(o as T);
      } catch (err) {
        this.log.warn({ resource: w.name, err: (err as Error).message }, 'cannot apply Kubernetes object');
      }
    };
    inf.on('add', apply(w.upsert));
    inf.on('update', apply(w.upsert));
    inf.on('delete', apply(w.remove));
    inf.on('connect', () => {
      this.stats.watches++;
    });
    inf.on('error', (err: unknown) => {
      if (this.stopped) return;
      this.stats.errors++;
      const delay = Math.min(this.retryMaxMs, this.retryMinMs * 2 ** Math.min(failures++, 16));
      this.log.warn({ resource: w.name, err: errText(err), retryMs: delay }, 'Kubernetes watch failed; restarting');
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (!this.stopped) inf.start().catch((e: unknown) => this.log.warn({ resource: w.name, err: errText(e) }, 'Kubernetes watch restart failed'));
      }, delay);
      t.unref();
      this.timers.add(t);
    });
    this.informers.push(inf);
    inf.start().catch((e: unknown) => this.log.warn({ resource: w.name, err: errText(e) }, 'Kubernetes watch start failed'));
    return synced;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweeper);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}

function errText(err: unknown): string {
  if (err instanceof Error)
    return (err as Error & { statusCode?: number }).statusCode ? `${err.message} (HTTP ${(err as Error & { statusCode?: number }).statusCode})` : err.message;
  return String(err);
}
