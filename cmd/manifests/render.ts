// The Kubernetes objects of a production deployment, as plain objects: a collector DaemonSet on
// every node, relay replicas over a shared ClickHouse, the HTTP API, their Services, ConfigMaps,
// RBAC, PodDisruptionBudgets, and (optionally) Prometheus Operator and Grafana objects. Pure: the
// same options give the same objects; `flowscope manifests` prints them as YAML.
//
// Settings reach the services as their own FLOWSCOPE_* environment variables, from one ConfigMap
// per component (editing it and restarting the pods changes a setting without re-rendering);
// only per-pod values (node name, pod IP) are set in the pod spec, from the downward API.
//
// TLS is on unless `tls: false`: mTLS between collectors and relays both ways, and for every
// Observer API caller (hubble, the HTTP API), as Hubble has it. Certificates come from Secrets
// that are referenced, never rendered (api/cli/cluster-tls.ts names them; `flowscope certs
// --namespace` issues them). Their file paths are container arguments, beside the mounts they
// depend on; probes use each service's plaintext health listener, since gRPC probes speak no TLS.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { PACKAGE_ROOT, VERSION } from '../../common/version.js';
import type { RedactionOptions } from '../../collector/enrich/redact.js';
import { COLLECTOR_ENV, COLLECTOR_NODE_FLAGS } from '../../collector/heap.js';
import { redactionEnv } from '../redact-flags.js';
import { TLS_SECRETS, TLS_SECRET_KEYS, clusterTlsNames, collectorMetricsServerName } from '../../api/cli/cluster-tls.js';

export const PORTS = Object.freeze({
  relayGrpc: 4245,
  relayMetrics: 9966,
  // hubble-relay's --health-listen-address.
  relayHealth: 4222,
  api: 8080,
});

export interface ManifestOptions {
  namespace: string;
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** The collectors' `--cluster-name`: on every flow's endpoints and node names. */
  clusterName: string;
  /** The collectors' record source. */
  source: 'cilium' | 'kernel';
  /** ClickHouse server the relay replicas share (`--clickhouse-url`). */
  clickhouseUrl: string;
  clickhouseDatabase?: string;
  clickhouseCluster?: string;
  /** Secret with keys `user` and `password` for ClickHouse (optional: absent means no credentials). */
  clickhouseSecret: string;
  retentionDays: number;
  relayReplicas: number;
  apiReplicas: number;
  /** Flows per second one node is expected to produce: sizes the collectors' CPU request. */
  nodeFlowRate: number;
  /** Flows per second of the whole cluster: sizes the relays' CPU request. */
  clusterFlowRate: number;
  collectorPort: number;
  collectorMetricsPort: number;
  /** The collectors' plaintext gRPC health port (probes). */
  collectorHealthPort: number;
  hostNetwork: boolean;
  l7Dns: boolean;
  /** Hubble flow metrics (`--metrics`); undefined keeps the collector's default. */
  metrics?: string;
  /** The collectors' --redact-* settings; null: no redaction. */
  redact: RedactionOptions | null;
  prometheusOperator: boolean;
  grafanaDashboards: boolean;
  /** mTLS between collectors, relays, the HTTP API and hubble (the Secrets of TLS_SECRETS). */
  tls: boolean;
  /** With tls: the HTTP API serves HTTPS with its certificate. */
  apiHttps: boolean;
  /** With tls: /metrics over HTTPS, the ServiceMonitors verifying the certificates. */
  metricsTls: boolean;
  /** Secret with key `tokens.yaml` (`flowscope tokens create --file tokens.yaml`): the relay and the
   * API require bearer tokens from it (--auth-token-file); absent: their query APIs are open. */
  authTokenSecret?: string;
}

export const DEFAULT_MANIFEST_OPTIONS: Omit<ManifestOptions, 'clickhouseUrl'> = Object.freeze({
  namespace: 'flowscope',
  image: `flowscope:${VERSION}`,
  imagePullPolicy: 'IfNotPresent',
  clusterName: 'default',
  source: 'cilium',
  clickhouseSecret: 'flowscope-clickhouse',
  retentionDays: 7,
  relayReplicas: 2,
  apiReplicas: 2,
  nodeFlowRate: 10_000,
  clusterFlowRate: 100_000,
  collectorPort: 4244,
  collectorMetricsPort: 9965,
  collectorHealthPort: 9967,
  hostNetwork: false,
  l7Dns: false,
  redact: null,
  prometheusOperator: true,
  grafanaDashboards: true,
  tls: true,
  apiHttps: false,
  metricsTls: false,
});

export const TLS_MOUNT = '/etc/flowscope/tls';
export const AUTH_MOUNT = '/etc/flowscope/auth';
/** The token Secret's key (`flowscope tokens create --file tokens.yaml`). */
export const AUTH_TOKENS_KEY = 'tokens.yaml';

type Obj = Record<string, unknown>;
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Obj;

export type Component = 'collector' | 'relay' | 'api';

export function selectorLabels(component: Component): Record<string, string> {
  return { 'app.kubernetes.io/name': 'flowscope', 'app.kubernetes.io/component': component };
}

function labels(component: Component | 'monitoring'): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'flowscope',
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': 'flowscope',
    'app.kubernetes.io/version': VERSION,
  };
}

function meta(name: string, o: ManifestOptions, component: Component | 'monitoring', extra: Obj = {}): K8sObject['metadata'] {
  return { name, namespace: o.namespace, labels: { ...labels(component), ...((extra.labels as Record<string, string>) ?? {}) } };
}

/** Resources from the measured figures (README "Sizing", docs/benchmarks.md). */
export function resources(component: Component, o: ManifestOptions): Obj {
  if (component === 'collector') {
    // 5–11 µs of CPU per flow (decode, enrich, Native block): the upper figure, at the node's rate.
    const cpu = Math.max(50, Math.ceil(o.nodeFlowRate * 11e-6 * 1000));
    // Peak RSS 140–150 MB flat out at 100k records/s with its backlog spilling, under its heap
    // settings (docs/benchmarks.md, 2026-12-07, collector heap); the limit leaves room above that.
    return { requests: { cpu: `${cpu}m`, memory: '256Mi' }, limits: { memory: '768Mi' } };
  }
  if (component === 'relay') {
    // ≈0.4 µs per flow plus ≈0.7 µs of gRPC transport: 1.5 µs per flow, the load shared by replicas.
    const cpu = Math.max(100, Math.ceil(((o.clusterFlowRate * 1.5e-6) / o.relayReplicas) * 1000));
    // Pending rows are bounded at 500k (≈ 440 bytes each as Native blocks ≈ 210 MiB) plus Node's own.
    return { requests: { cpu: `${cpu}m`, memory: '384Mi' }, limits: { memory: '1Gi' } };
  }
  return { requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '256Mi' } };
}

function envFromConfigMap(name: string): Obj[] {
  return [{ configMapRef: { name } }];
}

function fieldEnv(name: string, fieldPath: string): Obj {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

const DATA_DIR = '/var/lib/flowscope';

const restrictedContainer = Object.freeze({
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
});

/** Relay and API run as the image's unprivileged user (uid 1000, `node` in the Node image). */
const nonRootPod = Object.freeze({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });

function relayAddress(o: ManifestOptions): string {
  return `flowscope-relay.${o.namespace}.svc:${PORTS.relayGrpc}`;
}

function configMaps(o: ManifestOptions): K8sObject[] {
  const relay: Record<string, string> = {
    FLOWSCOPE_RELAY_LISTEN: `0.0.0.0:${PORTS.relayGrpc}`,
    FLOWSCOPE_CLICKHOUSE_URL: o.clickhouseUrl,
    FLOWSCOPE_RETENTION_DAYS: String(o.retentionDays),
    // chDB is not opened with a ClickHouse server; the spool sits beside this directory.
    FLOWSCOPE_DATA_DIR: `${DATA_DIR}/chdb`,
    FLOWSCOPE_SPOOL_DIR: `${DATA_DIR}/spool`,
    FLOWSCOPE_SPOOL_MAX_BYTES: String(1024 ** 3),
    FLOWSCOPE_METRICS_ADDR: `:${PORTS.relayMetrics}`,
    FLOWSCOPE_HEALTH_LISTEN: `0.0.0.0:${PORTS.relayHealth}`,
  };
  if (o.clickhouseDatabase) relay.FLOWSCOPE_CLICKHOUSE_DATABASE = o.clickhouseDatabase;
  if (o.clickhouseCluster) relay.FLOWSCOPE_CLICKHOUSE_CLUSTER = o.clickhouseCluster;
  const collector: Record<string, string> = {
    FLOWSCOPE_SOURCE: o.source,
    FLOWSCOPE_RELAY: relayAddress(o),
    FLOWSCOPE_COLLECTOR_LISTEN: `0.0.0.0:${o.collectorPort}`,
    FLOWSCOPE_CLUSTER_NAME: o.clusterName,
    FLOWSCOPE_METRICS_ADDR: `:${o.collectorMetricsPort}`,
    FLOWSCOPE_HEALTH_LISTEN: `0.0.0.0:${o.collectorHealthPort}`,
    FLOWSCOPE_SPILL_DIR: `${DATA_DIR}/spill`,
    FLOWSCOPE_SPILL_MAX_BYTES: String(2 * 1024 ** 3),
    ...redactionEnv(o.redact),
  };
  if (o.source === 'kernel') collector.FLOWSCOPE_CGROUP_ROOT = HOST_CGROUP_MOUNT;
  if (o.metrics !== undefined) collector.FLOWSCOPE_METRICS = o.metrics;
  const api: Record<string, string> = { FLOWSCOPE_API_LISTEN: `0.0.0.0:${PORTS.api}`, HUBBLE_SERVER: relayAddress(o) };
  return (
    [
      ['flowscope-relay', 'relay', relay],
      ['flowscope-collector', 'collector', collector],
      ['flowscope-api', 'api', api],
    ] as const
  ).map(([name, component, data]) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(name, o, component), data }));
}

const HOST_CGROUP_MOUNT = '/run/flowscope/cgroupv2';

/** Files a container reads from a Secret: the volume, its mount, and the flags naming the files. */
interface SecretFiles {
  volume: Obj;
  mount: Obj;
  args: string[];
}

/** The files of a Secret mounted read-only at `dir`; items list the keys, so a missing key stops the pod with an event naming it. */
function secretVolume(name: string, secret: string, dir: string, keys: readonly string[]): Pick<SecretFiles, 'volume' | 'mount'> {
  return {
    // Not optional: without its certificates a pod waits (an event names the Secret) instead of starting plaintext.
    volume: { name, secret: { secretName: secret, defaultMode: 0o440, items: keys.map((k) => ({ key: k, path: k })) } },
    mount: { name, mountPath: dir, readOnly: true },
  };
}

const TLS_FILE = Object.freeze({
  cert: `${TLS_MOUNT}/${TLS_SECRET_KEYS.cert}`,
  key: `${TLS_MOUNT}/${TLS_SECRET_KEYS.key}`,
  ca: `${TLS_MOUNT}/${TLS_SECRET_KEYS.ca}`,
});

/** A component's TLS flags, every file from its Secret (tls.crt, tls.key, ca.crt). */
function tlsArgs(component: Component, o: ManifestOptions): string[] {
  const { cert, key, ca } = TLS_FILE;
  const names = clusterTlsNames(o.namespace, o.clusterName);
  const metrics = o.metricsTls ? ['--metrics-tls-cert-file', cert, '--metrics-tls-key-file', key] : [];
  if (component === 'collector')
    return [
      // Its Observer API, which the relay's fan-out calls with the relay's client certificate.
      ...['--tls-server-cert-file', cert, '--tls-server-key-file', key, '--tls-client-ca-files', ca],
      // To the relay: the relay's certificate names its Service (the dialled host); ours is the collectors' wildcard.
      ...['--tls-relay-server-ca-files', ca, '--tls-relay-client-cert-file', cert, '--tls-relay-client-key-file', key],
      ...metrics,
    ];
  if (component === 'relay')
    return [
      // Ingest and Observer API: every caller (collectors, hubble, the HTTP API) needs a certificate from the CA.
      ...['--tls-relay-server-cert-file', cert, '--tls-relay-server-key-file', key, '--tls-relay-client-ca-files', ca, '--tls-relay-client-auth', 'all'],
      // Collectors share one certificate (a Secret cannot differ per node): accept its name for any node.
      ...['--tls-relay-client-name-pattern', names.collector],
      // To each collector's Observer API as "<node>.<cluster>.collector.flowscope".
      ...['--tls-hubble-server-ca-files', ca, '--tls-hubble-client-cert-file', cert, '--tls-hubble-client-key-file', key],
      ...['--tls-hubble-server-name', names.collector],
      ...metrics,
    ];
  return [
    // To the relay, as the CLI: the relay's Service name is checked on its certificate.
    ...['--tls', '--tls-ca-cert-files', ca, '--tls-client-cert-file', cert, '--tls-client-key-file', key],
    ...(o.apiHttps ? ['--tls-server-cert-file', cert, '--tls-server-key-file', key] : []),
  ];
}

/** Everything a component reads from Secrets: mounted read-only, each file named by a flag. */
function secretFiles(component: Component, o: ManifestOptions): SecretFiles[] {
  const out: SecretFiles[] = [];
  if (o.tls)
    out.push({
      ...secretVolume('tls', TLS_SECRETS[component], TLS_MOUNT, [TLS_SECRET_KEYS.cert, TLS_SECRET_KEYS.key, TLS_SECRET_KEYS.ca]),
      args: tlsArgs(component, o),
    });
  // Bearer tokens for the relay's query APIs and the HTTP API (required like the certificates: a
  // pod without its tokens must wait rather than start with open APIs).
  if (o.authTokenSecret && component !== 'collector')
    out.push({ ...secretVolume('auth', o.authTokenSecret, AUTH_MOUNT, [AUTH_TOKENS_KEY]), args: ['--auth-token-file', `${AUTH_MOUNT}/${AUTH_TOKENS_KEY}`] });
  return out;
}

function collectorDaemonSet(o: ManifestOptions): K8sObject {
  const volumes: Obj[] = [
    // bpffs: Cilium's pinned cilium_events map (/sys/fs/bpf/tc/globals) and the kernel probe's maps.
    // Not read-only: opening a pinned map asks for write access to its file.
    { name: 'bpf-maps', hostPath: { path: '/sys/fs/bpf', type: 'DirectoryOrCreate' } },
    // The backlog spills here while the relay is away and is replayed after a restart.
    { name: 'spill', hostPath: { path: '/var/lib/flowscope/spill', type: 'DirectoryOrCreate' } },
    { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
  ];
  const mounts: Obj[] = [
    { name: 'bpf-maps', mountPath: '/sys/fs/bpf', mountPropagation: 'HostToContainer' },
    { name: 'spill', mountPath: `${DATA_DIR}/spill` },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  if (o.source === 'kernel') {
    // libbpf resolves tracepoint ids in tracefs; the UDP hooks attach at the host's cgroup v2 root.
    volumes.push({ name: 'tracefs', hostPath: { path: '/sys/kernel/tracing', type: 'Directory' } });
    volumes.push({ name: 'cgroup', hostPath: { path: '/sys/fs/cgroup', type: 'Directory' } });
    mounts.push({ name: 'tracefs', mountPath: '/sys/kernel/tracing' });
    mounts.push({ name: 'cgroup', mountPath: HOST_CGROUP_MOUNT, readOnly: true });
  }
  const args = ['collector', '--k8s'];
  if (o.l7Dns) args.push('--l7-dns');
  for (const f of secretFiles('collector', o)) {
    volumes.push(f.volume);
    mounts.push(f.mount);
    args.push(...f.args);
  }
  // The plaintext health listener: the Observer API port may be TLS.
  const grpcProbe = { grpc: { port: o.collectorHealthPort } };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: meta('flowscope-collector', o, 'collector'),
    spec: {
      selector: { matchLabels: selectorLabels('collector') },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
      template: {
        metadata: { labels: labels('collector') },
        spec: {
          serviceAccountName: 'flowscope-collector',
          ...(o.hostNetwork ? { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' } : {}),
          // Every node, control plane and tainted ones included: each node's flows matter.
          tolerations: [{ operator: 'Exists' }],
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: 'collector',
              image: o.image,
              imagePullPolicy: o.imagePullPolicy,
              args,
              envFrom: envFromConfigMap('flowscope-collector'),
              env: [
                fieldEnv('FLOWSCOPE_NODE_NAME', 'spec.nodeName'),
                fieldEnv('POD_IP', 'status.podIP'),
                // The address the relay dials for this node's Observer API (GetNodes, status).
                { name: 'FLOWSCOPE_ADVERTISE', value: `$(POD_IP):${o.collectorPort}` },
                // V8 sizes the young generation at start (collector/heap.ts).
                { name: 'NODE_OPTIONS', value: COLLECTOR_NODE_FLAGS.join(' ') },
                // The allocator's settings (collector/heap.ts).
                ...Object.entries(COLLECTOR_ENV).map(([name, value]) => ({ name, value })),
              ],
              ports: [
                { name: 'observer', containerPort: o.collectorPort, protocol: 'TCP' },
                { name: 'metrics', containerPort: o.collectorMetricsPort, protocol: 'TCP' },
                { name: 'health', containerPort: o.collectorHealthPort, protocol: 'TCP' },
              ],
              // The gRPC server starts after the first Kubernetes list (up to 30 s).
              startupProbe: { ...grpcProbe, periodSeconds: 2, failureThreshold: 30 },
              readinessProbe: { ...grpcProbe, periodSeconds: 10 },
              livenessProbe: { ...grpcProbe, periodSeconds: 10, failureThreshold: 6 },
              resources: resources('collector', o),
              securityContext: {
                // Capabilities are only effective for uid 0 (Kubernetes sets no ambient ones), so the
                // collector runs as root with every capability dropped but what the BPF reader needs.
                runAsUser: 0,
                runAsNonRoot: false,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'], add: ['BPF', 'PERFMON', 'NET_ADMIN', 'DAC_READ_SEARCH'] },
                seccompProfile: { type: 'Unconfined' },
              },
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };
}

function relayDeployment(o: ManifestOptions): K8sObject {
  const grpcProbe = { grpc: { port: PORTS.relayHealth } };
  const files = secretFiles('relay', o);
  const secretEnv = (name: string, key: string): Obj => ({ name, valueFrom: { secretKeyRef: { name: o.clickhouseSecret, key, optional: true } } });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta('flowscope-relay', o, 'relay'),
    spec: {
      replicas: o.relayReplicas,
      selector: { matchLabels: selectorLabels('relay') },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: labels('relay') },
        spec: {
          securityContext: nonRootPod,
          // Replicas on different nodes, so one node going away leaves a relay.
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selectorLabels('relay') } },
          ],
          // A drain flushes pending rows and the spool's tail before exit.
          terminationGracePeriodSeconds: 60,
          containers: [
            {
              name: 'relay',
              image: o.image,
              imagePullPolicy: o.imagePullPolicy,
              args: ['relay', ...files.flatMap((f) => f.args)],
              envFrom: envFromConfigMap('flowscope-relay'),
              env: [
                fieldEnv('POD_NAME', 'metadata.name'),
                { name: 'FLOWSCOPE_NODE_NAME', value: '$(POD_NAME)' },
                secretEnv('FLOWSCOPE_CLICKHOUSE_USER', 'user'),
                secretEnv('FLOWSCOPE_CLICKHOUSE_PASSWORD', 'password'),
              ],
              ports: [
                { name: 'grpc', containerPort: PORTS.relayGrpc, protocol: 'TCP' },
                { name: 'metrics', containerPort: PORTS.relayMetrics, protocol: 'TCP' },
                { name: 'health', containerPort: PORTS.relayHealth, protocol: 'TCP' },
              ],
              // SERVING once storage is open and migrated (the plaintext health listener: the gRPC port may be TLS).
              startupProbe: { ...grpcProbe, periodSeconds: 2, failureThreshold: 60 },
              readinessProbe: { ...grpcProbe, periodSeconds: 5 },
              livenessProbe: { ...grpcProbe, periodSeconds: 10, failureThreshold: 6 },
              resources: resources('relay', o),
              securityContext: restrictedContainer,
              volumeMounts: [{ name: 'data', mountPath: DATA_DIR }, { name: 'tmp', mountPath: '/tmp' }, ...files.map((f) => f.mount)],
            },
          ],
          volumes: [
            // The spool holds batches while ClickHouse is away (1 GiB, FLOWSCOPE_SPOOL_MAX_BYTES).
            { name: 'data', emptyDir: { sizeLimit: '2Gi' } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            ...files.map((f) => f.volume),
          ],
        },
      },
    },
  };
}

function apiDeployment(o: ManifestOptions): K8sObject {
  const files = secretFiles('api', o);
  const https = o.tls && o.apiHttps;
  // The kubelet does not verify the certificate of an HTTPS probe (and the API asks for no client certificate).
  const probe = (path: string) => ({ httpGet: { path, port: apiPortName(o), scheme: https ? 'HTTPS' : 'HTTP' } });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta('flowscope-api', o, 'api'),
    spec: {
      replicas: o.apiReplicas,
      selector: { matchLabels: selectorLabels('api') },
      template: {
        metadata: { labels: labels('api') },
        spec: {
          securityContext: nonRootPod,
          containers: [
            {
              name: 'api',
              image: o.image,
              imagePullPolicy: o.imagePullPolicy,
              args: ['api', ...files.flatMap((f) => f.args)],
              envFrom: envFromConfigMap('flowscope-api'),
              ports: [{ name: apiPortName(o), containerPort: PORTS.api, protocol: 'TCP' }],
              readinessProbe: { ...probe('/readyz'), periodSeconds: 5 },
              livenessProbe: { ...probe('/healthz'), periodSeconds: 10, failureThreshold: 6 },
              resources: resources('api', o),
              securityContext: restrictedContainer,
              volumeMounts: files.map((f) => f.mount),
            },
          ],
          volumes: files.map((f) => f.volume),
        },
      },
    },
  };
}

function apiPortName(o: ManifestOptions): string {
  return o.tls && o.apiHttps ? 'https' : 'http';
}

function services(o: ManifestOptions): K8sObject[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('flowscope-relay', o, 'relay'),
      spec: {
        selector: selectorLabels('relay'),
        ports: [
          { name: 'grpc', port: PORTS.relayGrpc, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' },
          { name: 'metrics', port: PORTS.relayMetrics, targetPort: 'metrics', protocol: 'TCP' },
        ],
      },
    },
    {
      // Headless: each collector is scraped and reached on its own address.
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('flowscope-collector', o, 'collector'),
      spec: {
        clusterIP: 'None',
        selector: selectorLabels('collector'),
        ports: [
          { name: 'observer', port: o.collectorPort, targetPort: 'observer', protocol: 'TCP', appProtocol: 'grpc' },
          { name: 'metrics', port: o.collectorMetricsPort, targetPort: 'metrics', protocol: 'TCP' },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('flowscope-api', o, 'api'),
      spec: { selector: selectorLabels('api'), ports: [{ name: apiPortName(o), port: PORTS.api, targetPort: apiPortName(o), protocol: 'TCP' }] },
    },
  ];
}

function rbac(o: ManifestOptions): K8sObject[] {
  const m = meta('flowscope-collector', o, 'collector');
  const clusterMeta = { name: 'flowscope-collector', labels: m.labels };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: m },
    {
      // What `--k8s` reads: pods, services, nodes, namespaces, and the kube-apiserver's EndpointSlices. Read-only.
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: clusterMeta,
      rules: [
        { apiGroups: [''], resources: ['pods', 'services', 'nodes', 'namespaces'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: clusterMeta,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'flowscope-collector' },
      subjects: [{ kind: 'ServiceAccount', name: 'flowscope-collector', namespace: o.namespace }],
    },
  ];
}

function disruptionBudgets(o: ManifestOptions): K8sObject[] {
  return (['relay', 'api'] as const).map((c) => ({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(`flowscope-${c}`, o, c),
    spec: { minAvailable: 1, selector: { matchLabels: selectorLabels(c) } },
  }));
}

/** Alert and recording rule files shipped in dashboards/alerts/, as PrometheusRule groups. */
export function ruleFiles(): { name: string; groups: Obj[] }[] {
  const dir = path.join(PACKAGE_ROOT, 'dashboards', 'alerts');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => ({ name: f.replace(/\.yml$/, ''), groups: (YAML.parse(readFileSync(path.join(dir, f), 'utf8')) as { groups: Obj[] }).groups }));
}

/** Grafana dashboards shipped in dashboards/grafana/ (generated by `npm run dashboards`). */
export function dashboardFiles(): { file: string; json: string }[] {
  const dir = path.join(PACKAGE_ROOT, 'dashboards', 'grafana');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, json: readFileSync(path.join(dir, file), 'utf8') }));
}

/** With metrics TLS: HTTPS, the CA from the component's Secret, and the name its certificate carries (Prometheus dials pod IPs). */
function metricsScheme(c: 'relay' | 'collector', o: ManifestOptions): Obj {
  if (!o.tls || !o.metricsTls) return {};
  const serverName = c === 'relay' ? `flowscope-relay.${o.namespace}.svc` : collectorMetricsServerName(o.clusterName);
  return { scheme: 'https', tlsConfig: { ca: { secret: { name: TLS_SECRETS[c], key: TLS_SECRET_KEYS.ca } }, serverName } };
}

function monitoring(o: ManifestOptions): K8sObject[] {
  // Prometheus' job label is the Service's name: flowscope-relay and flowscope-collector, the jobs
  // the alert rules name.
  const monitors: K8sObject[] = (['relay', 'collector'] as const).map((c) => ({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: meta(`flowscope-${c}`, o, c),
    spec: {
      selector: { matchLabels: selectorLabels(c) },
      namespaceSelector: { matchNames: [o.namespace] },
      endpoints: [{ port: 'metrics', path: '/metrics', interval: '15s', ...metricsScheme(c, o) }],
    },
  }));
  const rules: K8sObject[] = ruleFiles().map((r) => ({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: meta(r.name, o, 'monitoring'),
    spec: { groups: r.groups },
  }));
  return [...monitors, ...rules];
}

function dashboards(o: ManifestOptions): K8sObject[] {
  // The Grafana sidecar (kube-prometheus-stack, grafana chart) loads ConfigMaps with this label.
  return dashboardFiles().map((d) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(`grafana-${d.file.replace(/\.json$/, '')}`, o, 'monitoring', { labels: { grafana_dashboard: '1' } }),
    data: { [d.file]: d.json },
  }));
}

export function renderObjects(o: ManifestOptions): K8sObject[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      // The collector needs host paths and capabilities: Pod Security's "privileged" level.
      metadata: { name: o.namespace, labels: { 'app.kubernetes.io/part-of': 'flowscope', 'pod-security.kubernetes.io/enforce': 'privileged' } },
    },
    ...rbac(o),
    ...configMaps(o),
    collectorDaemonSet(o),
    relayDeployment(o),
    apiDeployment(o),
    ...services(o),
    ...disruptionBudgets(o),
    ...(o.prometheusOperator ? monitoring(o) : []),
    ...(o.grafanaDashboards ? dashboards(o) : []),
  ];
}
