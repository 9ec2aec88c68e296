// `flowscope manifests`: the Kubernetes objects of a deployment as YAML on stdout (render.ts), from
// flags that map onto the services' own flags.
import { Command, Option } from 'commander';
import YAML from 'yaml';
import { UsageError } from '../api/query/usage-error.js';
import { int, strict } from '../api/cli/options.js';
import { CLUSTER_NAME_RULE, isClusterName } from '../common/cluster-name.js';
import { validateMetricsConfig } from '../collector/metrics/flow-metrics.js';
import { redactOptions, redactionFromFlags, type RedactFlags } from './redact-flags.js';
import { DEFAULT_MANIFEST_OPTIONS as D, renderObjects, type K8sObject, type ManifestOptions } from './manifests/render.js';

interface ManifestFlags extends RedactFlags {
  namespace: string;
  image: string;
  imagePullPolicy: ManifestOptions['imagePullPolicy'];
  clusterName: string;
  source: ManifestOptions['source'];
  clickhouseUrl?: string;
  clickhouseDatabase?: string;
  clickhouseCluster?: string;
  clickhouseSecret: string;
  authTokenSecret?: string;
  retentionDays: number;
  relayReplicas: number;
  apiReplicas: number;
  nodeFlowRate: number;
  clusterFlowRate: number;
  collectorPort: number;
  collectorMetricsPort: number;
  collectorHealthPort: number;
  hostNetwork?: boolean;
  l7Dns?: boolean;
  metrics?: string;
  prometheusOperator: boolean;
  grafanaDashboards: boolean;
  tls: boolean;
  apiHttps?: boolean;
  metricsTls?: boolean;
}

// RFC 1123 label: what Kubernetes accepts as a namespace or Secret name.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function dnsLabel(flag: string): (v: string) => string {
  return (v: string) => {
    if (!DNS_LABEL.test(v)) throw new UsageError(`invalid value "${v}" for --${flag}: expected a DNS label (lower-case letters, digits, '-', at most 63)`);
    return v;
  };
}

// The collectors' own rule (their --cluster-name would refuse anything else).
function clusterName(v: string): string {
  if (!isClusterName(v)) throw new UsageError(`invalid value "${v}" for --cluster-name: ${CLUSTER_NAME_RULE}`);
  return v;
}

function clickhouseUrl(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new UsageError(`invalid value "${v}" for --clickhouse-url: expected http[s]://host:port`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`invalid value "${v}" for --clickhouse-url: expected http[s]://host:port`);
  // Rendered manifests end up in Git: credentials belong in the Secret (--clickhouse-secret).
  if (u.username || u.password) throw new UsageError('--clickhouse-url must not carry credentials: put them in the Secret named by --clickhouse-secret');
  return v;
}

/** Renders the objects as one multi-document YAML stream. */
export function renderYaml(objects: readonly K8sObject[]): string {
  // Repeated objects are written out again, never as YAML anchors and aliases.
  return objects.map((o) => YAML.stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

export function manifestOptions(o: ManifestFlags): ManifestOptions {
  if (o.clickhouseUrl === undefined)
    throw new UsageError('--clickhouse-url is required: the relay replicas share one ClickHouse (embedded chDB is one process)');
  if (o.hostNetwork && o.source === 'cilium' && (o.collectorPort === 4244 || o.collectorMetricsPort === 9965)) {
    // Cilium's own Hubble server and metrics listen on these ports of the host.
    throw new UsageError("--host-network on a Cilium node: ports 4244 and 9965 are Hubble's; give --collector-port and --collector-metrics-port");
  }
  if (new Set([o.collectorPort, o.collectorMetricsPort, o.collectorHealthPort]).size !== 3)
    throw new UsageError('--collector-port, --collector-metrics-port and --collector-health-port must differ');
  if (!o.tls && (o.apiHttps || o.metricsTls))
    throw new UsageError(`${o.apiHttps ? '--api-https' : '--metrics-tls'} uses the TLS Secrets: it does not go with --no-tls`);
  return {
    namespace: o.namespace,
    image: o.image,
    imagePullPolicy: o.imagePullPolicy,
    clusterName: o.clusterName,
    source: o.source,
    clickhouseUrl: o.clickhouseUrl,
    ...(o.clickhouseDatabase !== undefined ? { clickhouseDatabase: o.clickhouseDatabase } : {}),
    ...(o.clickhouseCluster !== undefined ? { clickhouseCluster: o.clickhouseCluster } : {}),
    clickhouseSecret: o.clickhouseSecret,
    retentionDays: o.retentionDays,
    relayReplicas: o.relayReplicas,
    apiReplicas: o.apiReplicas,
    nodeFlowRate: o.nodeFlowRate,
    clusterFlowRate: o.clusterFlowRate,
    collectorPort: o.collectorPort,
    collectorMetricsPort: o.collectorMetricsPort,
    collectorHealthPort: o.collectorHealthPort,
    hostNetwork: !!o.hostNetwork,
    l7Dns: !!o.l7Dns,
    ...(o.metrics !== undefined ? { metrics: o.metrics } : {}),
    redact: redactionFromFlags(o),
    prometheusOperator: o.prometheusOperator,
    grafanaDashboards: o.grafanaDashboards,
    tls: o.tls,
    apiHttps: !!o.apiHttps,
    metricsTls: !!o.metricsTls,
    ...(o.authTokenSecret !== undefined ? { authTokenSecret: o.authTokenSecret } : {}),
  };
}

export function manifestsCommand(): Command {
  const cmd = strict(new Command('manifests'))
    .description('Print the Kubernetes manifests of a deployment (collector DaemonSet, relay and API Deployments, RBAC, monitoring) as YAML')
    .addOption(new Option('--namespace <name>', 'Namespace of every object').default(D.namespace).argParser(dnsLabel('namespace')))
    .addOption(new Option('--image <ref>', 'flowscope container image (built from the Dockerfile)').default(D.image))
    .addOption(new Option('--image-pull-policy <policy>').choices(['Always', 'IfNotPresent', 'Never']).default(D.imagePullPolicy))
    .addOption(
      new Option('--cluster-name <name>', "collectors' --cluster-name: on every flow's endpoints and node names").default(D.clusterName).argParser(clusterName),
    )
    .addOption(new Option('--source <source>', "collectors' record source").choices(['cilium', 'kernel']).default(D.source))
    .addOption(new Option('--clickhouse-url <url>', "relays' --clickhouse-url: the ClickHouse server they share (required)").argParser(clickhouseUrl))
    .addOption(new Option('--clickhouse-database <db>', "relays' --clickhouse-database"))
    .addOption(new Option('--clickhouse-cluster <name>', "relays' --clickhouse-cluster (schema from `flowscope schema --cluster`)"))
    .addOption(
      new Option('--clickhouse-secret <name>', 'Secret with keys user and password for ClickHouse (optional at run time)')
        .default(D.clickhouseSecret)
        .argParser(dnsLabel('clickhouse-secret')),
    )
    .addOption(new Option('--retention-days <n>', "relays' --retention-days").default(D.retentionDays).argParser(int('retention-days', 1, 3650)))
    .addOption(
      new Option('--relay-replicas <n>', 'Relay replicas over the shared ClickHouse').default(D.relayReplicas).argParser(int('relay-replicas', 1, 100)),
    )
    .addOption(
      new Option(
        '--auth-token-secret <name>',
        'Secret with key tokens.yaml (`flowscope tokens create`): relay and API require bearer tokens from it',
      ).argParser(dnsLabel('auth-token-secret')),
    )
    .addOption(new Option('--api-replicas <n>', 'HTTP API replicas').default(D.apiReplicas).argParser(int('api-replicas', 1, 100)))
    .addOption(
      new Option('--node-flow-rate <n>', "Flows/s expected of one node: sizes the collectors' CPU request")
        .default(D.nodeFlowRate)
        .argParser(int('node-flow-rate', 1, 10_000_000)),
    )
    .addOption(
      new Option('--cluster-flow-rate <n>', "Flows/s expected of the cluster: sizes the relays' CPU request")
        .default(D.clusterFlowRate)
        .argParser(int('cluster-flow-rate', 1, 100_000_000)),
    )
    .addOption(
      new Option('--collector-port <port>', "collectors' Observer API port (their --listen)")
        .default(D.collectorPort)
        .argParser(int('collector-port', 1, 65535)),
    )
    .addOption(
      new Option('--collector-metrics-port <port>', "collectors' --metrics-addr port")
        .default(D.collectorMetricsPort)
        .argParser(int('collector-metrics-port', 1, 65535)),
    )
    .addOption(
      new Option('--collector-health-port <port>', "collectors' --health-listen port (plaintext gRPC health, for probes)")
        .default(D.collectorHealthPort)
        .argParser(int('collector-health-port', 1, 65535)),
    )
    .addOption(new Option('--host-network', "Run collectors in the host network namespace (then move their ports off Hubble's 4244 and 9965)"))
    .addOption(new Option('--l7-dns', "collectors' --l7-dns"))
    .addOption(
      new Option('--metrics <config>', "collectors' --metrics (Hubble flow metrics)").argParser((v: string) => {
        try {
          validateMetricsConfig(v);
        } catch (err) {
          throw new UsageError(`invalid --metrics: ${(err as Error).message}`);
        }
        return v;
      }),
    )
    .addOption(new Option('--no-prometheus-operator', 'Leave out the ServiceMonitors and PrometheusRules'))
    .addOption(new Option('--no-grafana-dashboards', 'Leave out the Grafana dashboard ConfigMaps'))
    .addOption(
      new Option(
        '--no-tls',
        'Plaintext everywhere (default: mTLS between collectors, relays, the API and hubble, from the Secrets flowscope-{relay,collector,api}-tls; see `flowscope certs --namespace`)',
      ),
    )
    .addOption(new Option('--api-https', "The HTTP API serves HTTPS with flowscope-api-tls's certificate"))
    .addOption(new Option('--metrics-tls', "/metrics over HTTPS with each component's certificate; the ServiceMonitors verify it with ca.crt"));
  // The collectors' own redaction flags, passed on through their ConfigMap.
  for (const opt of redactOptions(false)) cmd.addOption(opt);
  return cmd.action((o: ManifestFlags) => {
    process.stdout.write(renderYaml(renderObjects(manifestOptions(o))));
  });
}
