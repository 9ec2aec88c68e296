// The names of a `flowscope manifests` deployment's TLS, in one place: `flowscope certs
// --namespace` issues certificates that carry them, the manifests mount the Secrets and pass the
// names to the services, and the manifests test checks one against the other.

/** Keys of each TLS Secret: a kubernetes.io/tls Secret's plus ca.crt, as cert-manager writes them. */
export const TLS_SECRET_KEYS = Object.freeze({ cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' });

/** One Secret per component (never rendered: keys stay out of manifests). */
export const TLS_SECRETS = Object.freeze({ relay: 'flowscope-relay-tls', collector: 'flowscope-collector-tls', api: 'flowscope-api-tls' });

/** Names a Service is reached by from inside the cluster. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

/**
 * The name on every collector's certificate: one wildcard Secret serves the whole DaemonSet
 * (a Secret cannot differ per node), as Cilium's "*.<cluster>.hubble-grpc.cilium.io". The relay
 * dials node n as "<n>.<cluster>.collector.flowscope" (--tls-hubble-server-name with this
 * pattern) and accepts collectors whose certificate matches it (--tls-relay-client-name-pattern).
 */
export function collectorCertificateName(clusterName: string): string {
  return `*.${clusterName}.collector.flowscope`;
}

/** Where Prometheus' ServiceMonitor expects a collector's /metrics certificate to point. */
export function collectorMetricsServerName(clusterName: string): string {
  return collectorCertificateName(clusterName).replace('*', 'metrics');
}

export interface ClusterTlsNames {
  relay: string[];
  api: string[];
  collector: string;
}

export function clusterTlsNames(namespace: string, clusterName: string): ClusterTlsNames {
  return {
    relay: serviceDnsNames('flowscope-relay', namespace),
    api: serviceDnsNames('flowscope-api', namespace),
    collector: collectorCertificateName(clusterName),
  };
}

/** Which of `flowscope certs --namespace`'s files goes in which Secret (<name>.crt/.key, and ca.crt). */
export const TLS_SECRET_FILES = Object.freeze({ relay: 'relay', collector: 'collector', api: 'api' });
