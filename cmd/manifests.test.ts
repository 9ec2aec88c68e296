// `flowscope manifests`: every rendered object validated against the Kubernetes API schemas
// (kubernetes-models, prometheus-operator models), and the references between objects checked:
// selectors ↔ labels, Service and probe ports ↔ container ports, volumes ↔ mounts, ConfigMaps,
// RBAC ↔ service account, every container's arguments and environment parsed by the real
// `flowscope <command>` definitions, every file a flag names ↔ a key of a mounted Secret, and the
// names TLS checks ↔ the certificates `flowscope certs --namespace` issues.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs, { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadAllYaml, loadYaml } from '@kubernetes/client-node';
import type { Command } from 'commander';
import * as core from 'kubernetes-models/v1';
import * as apps from 'kubernetes-models/apps/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as monitoring from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { buildProgram } from './main.js';
import { renderYaml } from './manifests.js';
import { redactionFromFlags, type RedactFlags } from './redact-flags.js';
import { makeCerts } from '../api/cli/certs.js';
import { TLS_SECRETS, TLS_SECRET_FILES, TLS_SECRET_KEYS } from '../api/cli/cluster-tls.js';
import { ClientCertGuard, peerServerName } from '../common/tls.js';
import { createLogger } from '../common/logger.js';
import { DEFAULT_MANIFEST_OPTIONS, renderObjects, ruleFiles, dashboardFiles, type K8sObject, type ManifestOptions } from './manifests/render.js';
import { COLLECTOR_ENV, COLLECTOR_NODE_FLAGS } from '../collector/heap.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/flowscope.js');

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const MODELS: Record<string, Record<string, unknown>> = {
  v1: core,
  'apps/v1': apps,
  'policy/v1': policy,
  'rbac.authorization.k8s.io/v1': rbac,
  'monitoring.coreos.com/v1': monitoring,
};

const BASE: ManifestOptions = { ...DEFAULT_MANIFEST_OPTIONS, clickhouseUrl: 'http://clickhouse.storage:8123' };

const VARIANTS: [string, ManifestOptions][] = [
  ['defaults', BASE],
  [
    'kernel source, host network, own namespace and cluster',
    {
      ...BASE,
      namespace: 'observability',
      clusterName: 'eu-west',
      source: 'kernel',
      hostNetwork: true,
      collectorPort: 4250,
      collectorMetricsPort: 9970,
      l7Dns: true,
      metrics: 'drop:sourceContext=namespace flow dns:query',
      clickhouseDatabase: 'flows',
      clickhouseCluster: 'ch',
      relayReplicas: 3,
      authTokenSecret: 'flowscope-tokens',
      redact: {
        httpUrlQuery: true,
        httpUserInfo: true,
        kafkaApiKey: true,
        httpHeadersAllow: ['content-type', 'x-request-id'],
        httpHeadersDeny: [],
        dnsQuery: ['*.corp.example.com', '/^secret-[a-z]+\\.example\\.org$/'],
      },
    },
  ],
  ['without Prometheus Operator and Grafana objects', { ...BASE, prometheusOperator: false, grafanaDashboards: false }],
  ['HTTPS API and metrics over TLS', { ...BASE, namespace: 'obs', clusterName: 'c2', apiHttps: true, metricsTls: true }],
  ['TLS off', { ...BASE, tls: false }],
];

function validateSchema(obj: K8sObject): void {
  const group = MODELS[obj.apiVersion];
  assert.ok(group, `no schema models for apiVersion ${obj.apiVersion}`);
  const Model = group[obj.kind] as (new (o: unknown) => { validate(): void }) | undefined;
  assert.ok(Model, `no schema model for ${obj.apiVersion} ${obj.kind}`);
  // Round-trip through YAML first: what is validated is what kubectl would send.
  const parsed = loadYaml(renderYaml([obj])) as unknown;
  assert.doesNotThrow(() => new Model(parsed).validate(), `${obj.kind}/${obj.metadata.name} fails the ${obj.apiVersion} schema`);
  // The schemas allow unknown fields (the API server drops them, silently with kubectl's default):
  // a misspelt field must not pass. @kubernetes/client-node deserializes built-in kinds into its
  // typed models, keeping only the fields those declare: anything lost on the way is unknown.
  if (obj.apiVersion !== 'monitoring.coreos.com/v1') {
    const typed = JSON.parse(JSON.stringify(loadYaml(renderYaml([obj])))) as unknown;
    assert.deepStrictEqual(
      typed,
      JSON.parse(JSON.stringify(obj)),
      `${obj.kind}/${obj.metadata.name} has fields the ${obj.apiVersion} ${obj.kind} model does not know`,
    );
  }
}

function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function workloads(objs: K8sObject[]): Any[] {
  return objs.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet') as Any[];
}

function named(objs: K8sObject[], kind: string, name: string, namespace?: string): Any | undefined {
  return objs.find((o) => o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace));
}

/** The one workload a selector picks in the namespace (exactly one, or the test fails). */
function selected(objs: K8sObject[], selector: Record<string, string>, namespace: string, what: string): Any {
  const hits = workloads(objs).filter((w) => w.metadata.namespace === namespace && matches(selector, w.spec.template.metadata.labels));
  assert.equal(hits.length, 1, `${what}: selector ${JSON.stringify(selector)} picks ${hits.length} workloads`);
  return hits[0];
}

/** The environment a container starts with: its ConfigMaps' data, then its env (downward API and
 * secret values replaced by stand-ins, $(VAR) expanded as the kubelet does). */
function containerEnv(objs: K8sObject[], ns: string, c: Any): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    assert.ok(from.configMapRef, 'only ConfigMaps feed envFrom');
    const cm = named(objs, 'ConfigMap', from.configMapRef.name, ns);
    assert.ok(cm, `envFrom ConfigMap ${from.configMapRef.name} is rendered`);
    Object.assign(env, cm.data);
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = String(e.value).replace(/\$\(([A-Z_][A-Z0-9_]*)\)/g, (_m: string, v: string) => {
        assert.ok(v in env, `${e.name} refers to $(${v}), which is not defined before it`);
        return env[v];
      });
    } else if (e.valueFrom?.fieldRef) {
      const stand: Record<string, string> = { 'spec.nodeName': 'node-1', 'status.podIP': '10.0.0.7', 'metadata.name': 'flowscope-relay-abc' };
      assert.ok(e.valueFrom.fieldRef.fieldPath in stand, `unexpected fieldRef ${e.valueFrom.fieldRef.fieldPath}`);
      env[e.name] = stand[e.valueFrom.fieldRef.fieldPath];
    } else if (e.valueFrom?.secretKeyRef) {
      // Secrets are not rendered (credentials stay out of manifests): they must be optional.
      assert.equal(e.valueFrom.secretKeyRef.optional, true, `${e.name}: secretKeyRef to a secret not rendered must be optional`);
      env[e.name] = 'secret-value';
    } else assert.fail(`env ${e.name} has no value`);
  }
  return env;
}

/** Parses `args` with the real command definition and `env` as the process environment; returns
 * the options the command's action would receive (the action itself is replaced). */
async function parseWithCommand(args: string[], env: Record<string, string>): Promise<{ command: Command; opts: Record<string, unknown> }> {
  const program = buildProgram();
  const command = program.commands.find((c) => c.name() === args[0]);
  assert.ok(command, `container runs "${args[0]}", which is not a flowscope command`);
  let opts: Record<string, unknown> | undefined;
  command.action((o: Record<string, unknown>) => {
    opts = o;
  });
  const saved = { ...process.env };
  try {
    for (const k of Object.keys(process.env)) if (k.startsWith('FLOWSCOPE_') || k === 'HUBBLE_SERVER') delete process.env[k];
    Object.assign(process.env, env);
    await program.parseAsync(['node', 'flowscope', ...args]);
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  assert.ok(opts, `flowscope ${args.join(' ')} did not reach its action`);
  return { command, opts };
}

/**
 * Every file a flag names (options ending in -file / -files, given in args or env) is a key of a
 * Secret or ConfigMap volume this container mounts, listed in the volume's items; every such key
 * is named by some flag.
 */
function checkFilePaths(what: string, pod: Any, c: Any, command: Command, opts: Record<string, unknown>): void {
  const files = new Map<string, string>();
  for (const m of c.volumeMounts ?? []) {
    const v = pod.volumes.find((x: Any) => x.name === m.name);
    const source = v?.secret ?? v?.configMap;
    if (!source) continue;
    assert.ok(Array.isArray(source.items) && source.items.length > 0, `${what}: volume ${m.name} lists the keys it needs (items)`);
    for (const item of source.items) files.set(path.posix.join(m.mountPath, item.path), `${m.name}:${item.key}`);
  }
  const used = new Set<string>();
  for (const opt of command.options) {
    if (!/-files?$/.test(opt.long ?? '')) continue;
    const source = command.getOptionValueSource(opt.attributeName());
    if (source !== 'cli' && source !== 'env') continue;
    const value = opts[opt.attributeName()] as string | string[];
    for (const p of Array.isArray(value) ? value : [value]) {
      assert.ok(files.has(p), `${what}: ${opt.long} ${p} is no file of a mounted Secret or ConfigMap`);
      used.add(p);
    }
  }
  for (const [p, src] of files) assert.ok(used.has(p), `${what}: mounted ${src} (${p}) is named by no flag`);
}

async function checkReferences(objs: K8sObject[]): Promise<void> {
  const ns = objs.find((o) => o.kind === 'Namespace')!.metadata.name;
  for (const o of objs)
    if (o.kind !== 'Namespace' && o.kind !== 'ClusterRole' && o.kind !== 'ClusterRoleBinding')
      assert.equal(o.metadata.namespace, ns, `${o.kind}/${o.metadata.name} namespace`);
  const names = objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  assert.equal(new Set(names).size, names.length, 'object names are unique per kind');

  for (const w of workloads(objs)) {
    const what = `${w.kind}/${w.metadata.name}`;
    const pod = w.spec.template.spec;
    assert.ok(matches(w.spec.selector.matchLabels, w.spec.template.metadata.labels), `${what}: selector matches its pod labels`);
    // Volumes ↔ mounts.
    const volumes = new Map<string, Any>(pod.volumes.map((v: Any) => [v.name, v]));
    const mounted = new Set<string>();
    for (const c of pod.containers) {
      for (const m of c.volumeMounts ?? []) {
        assert.ok(volumes.has(m.name), `${what}: mount ${m.name} has a volume`);
        mounted.add(m.name);
        if (volumes.get(m.name)!.secret) assert.equal(m.readOnly, true, `${what}: secret ${m.name} mounted read-only`);
      }
      // Probes ↔ container ports.
      const portNumbers = new Set<number>(c.ports.map((p: Any) => p.containerPort));
      const portNames = new Set<string>(c.ports.map((p: Any) => p.name));
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        const p = c[probe];
        if (!p) continue;
        if (p.grpc) assert.ok(portNumbers.has(p.grpc.port), `${what}: ${probe} gRPC port ${p.grpc.port} is a container port`);
        else if (p.httpGet)
          assert.ok(typeof p.httpGet.port === 'string' ? portNames.has(p.httpGet.port) : portNumbers.has(p.httpGet.port), `${what}: ${probe} port`);
        else assert.fail(`${what}: ${probe} is neither gRPC nor HTTP`);
      }
      assert.ok(c.readinessProbe && c.livenessProbe, `${what}: readiness and liveness probes`);
      assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory, `${what}: resources`);

      // Arguments and environment: the real command accepts them.
      const env = containerEnv(objs, ns, c);
      const { command, opts } = await parseWithCommand(c.args, env);
      const envVars = new Set(command.options.map((opt) => opt.envVar).filter((v): v is string => !!v));
      for (const k of Object.keys(env)) {
        if (/^[A-Z_]+$/.test(k) && (k.startsWith('FLOWSCOPE_') || k === 'HUBBLE_SERVER'))
          assert.ok(envVars.has(k), `${what}: ${k} is not a setting of flowscope ${c.args[0]}`);
      }
      // The settings arrive: each ConfigMap key is read by the option it names.
      for (const opt of command.options) {
        if (opt.envVar && opt.envVar in env) assert.notEqual(opts[opt.attributeName()], undefined, `${what}: ${opt.envVar} reaches --${opt.name()}`);
      }
      // Every listener the command is told about is a declared container port.
      for (const [k, v] of Object.entries(env)) {
        if (!/_(LISTEN|METRICS_ADDR)$/.test(k)) continue;
        const port = Number(v.slice(v.lastIndexOf(':') + 1));
        assert.ok(portNumbers.has(port), `${what}: ${k}=${v} is a container port`);
      }
      if (env.FLOWSCOPE_ADVERTISE) assert.ok(portNumbers.has(Number(env.FLOWSCOPE_ADVERTISE.split(':')[1])), `${what}: advertised port is served`);
      checkFilePaths(what, pod, c, command, opts);
    }
    for (const v of volumes.keys()) assert.ok(mounted.has(v), `${what}: volume ${v} is mounted`);
    for (const v of volumes.values()) {
      if (v.configMap) assert.ok(named(objs, 'ConfigMap', v.configMap.name, ns), `${what}: ConfigMap ${v.configMap.name}`);
      // Secrets are not rendered: one that a pod cannot start without must be a documented TLS
      // Secret, or the token Secret the user named with --auth-token-secret.
      if (v.secret && !v.secret.optional)
        assert.ok(
          (Object.values(TLS_SECRETS) as string[]).includes(v.secret.secretName) || (v.name === 'auth' && v.secret.secretName === 'flowscope-tokens'),
          `${what}: required secret ${v.secret.secretName} is documented`,
        );
    }
    // Service account ↔ RBAC.
    if (pod.serviceAccountName) {
      assert.ok(named(objs, 'ServiceAccount', pod.serviceAccountName, ns), `${what}: ServiceAccount ${pod.serviceAccountName}`);
      const binding = objs.find(
        (o: Any) =>
          o.kind === 'ClusterRoleBinding' &&
          o.subjects.some((s: Any) => s.kind === 'ServiceAccount' && s.name === pod.serviceAccountName && s.namespace === ns),
      ) as Any;
      assert.ok(binding, `${what}: ${pod.serviceAccountName} is bound`);
      assert.ok(named(objs, 'ClusterRole', binding.roleRef.name), `${what}: bound ClusterRole ${binding.roleRef.name} is rendered`);
    }
  }

  // The relay address collectors and the API dial is the relay Service's gRPC port.
  const relaySvc = named(objs, 'Service', 'flowscope-relay', ns)!;
  const relayAddr = `flowscope-relay.${ns}.svc:${relaySvc.spec.ports.find((p: Any) => p.name === 'grpc').port}`;
  assert.equal(named(objs, 'ConfigMap', 'flowscope-collector', ns)!.data.FLOWSCOPE_RELAY, relayAddr);
  assert.equal(named(objs, 'ConfigMap', 'flowscope-api', ns)!.data.HUBBLE_SERVER, relayAddr);

  for (const s of objs.filter((o) => o.kind === 'Service') as Any[]) {
    const w = selected(objs, s.spec.selector, ns, `Service/${s.metadata.name}`);
    const portNames = new Set<string>(w.spec.template.spec.containers.flatMap((c: Any) => c.ports.map((p: Any) => p.name)));
    for (const p of s.spec.ports)
      assert.ok(portNames.has(p.targetPort), `Service/${s.metadata.name}: targetPort ${p.targetPort} is a container port of ${w.metadata.name}`);
  }
  for (const p of objs.filter((o) => o.kind === 'PodDisruptionBudget') as Any[]) {
    const w = selected(objs, p.spec.selector.matchLabels, ns, `PodDisruptionBudget/${p.metadata.name}`);
    assert.equal(w.kind, 'Deployment');
    assert.ok(w.spec.replicas > p.spec.minAvailable, `PodDisruptionBudget/${p.metadata.name} leaves room for a disruption`);
  }
  for (const m of objs.filter((o) => o.kind === 'ServiceMonitor') as Any[]) {
    const svcs = objs.filter(
      (o: Any) =>
        o.kind === 'Service' && m.spec.namespaceSelector.matchNames.includes(o.metadata.namespace) && matches(m.spec.selector.matchLabels, o.metadata.labels),
    ) as Any[];
    assert.equal(svcs.length, 1, `ServiceMonitor/${m.metadata.name} selects one Service`);
    for (const e of m.spec.endpoints)
      assert.ok(
        svcs[0].spec.ports.some((p: Any) => p.name === e.port),
        `ServiceMonitor/${m.metadata.name}: port ${e.port}`,
      );
    // The alert rules name the jobs flowscope-relay and flowscope-collector: the Service's name.
    assert.match(svcs[0].metadata.name, /^flowscope-(relay|collector)$/);
  }
}

for (const [name, opts] of VARIANTS) {
  test(`manifests (${name}): every object passes its Kubernetes schema`, () => {
    const objs = renderObjects(opts);
    assert.ok(objs.length >= 15);
    for (const o of objs) validateSchema(o);
  });
  test(`manifests (${name}): references between objects hold and the commands accept their settings`, async () => {
    await checkReferences(renderObjects(opts));
  });
}

test("manifests: the collectors' ConfigMap gives back the redaction asked for, through the collector's own flags", async () => {
  for (const [, opts] of VARIANTS) {
    const objs = renderObjects(opts);
    const c = (objs.find((o) => o.kind === 'DaemonSet') as Any).spec.template.spec.containers[0];
    const { opts: parsed } = await parseWithCommand(c.args, containerEnv(objs, opts.namespace, c));
    assert.deepEqual(redactionFromFlags(parsed as unknown as RedactFlags), opts.redact);
  }
  assert.ok(VARIANTS.some(([, o]) => o.redact !== null));
});

test('manifests: with --auth-token-secret the relay and the API read their tokens from the mounted Secret', async () => {
  const opts = VARIANTS.find(([, o]) => o.authTokenSecret)![1];
  const objs = renderObjects(opts);
  for (const name of ['flowscope-relay', 'flowscope-api']) {
    const d = named(objs, 'Deployment', name, opts.namespace)!;
    const c = d.spec.template.spec.containers[0];
    const { opts: parsed } = await parseWithCommand(c.args, containerEnv(objs, opts.namespace, c));
    assert.equal(parsed.authTokenFile, '/etc/flowscope/auth/tokens.yaml', name);
    const mount = c.volumeMounts.find((m: Any) => m.mountPath === '/etc/flowscope/auth');
    const vol = d.spec.template.spec.volumes.find((v: Any) => v.name === mount?.name);
    assert.equal(vol?.secret?.secretName, 'flowscope-tokens', name);
    // Not optional: a pod whose tokens are missing must not start with open APIs.
    assert.equal(vol.secret.optional, undefined);
  }
  // Without the option, no token file (and no mount).
  for (const name of ['flowscope-relay', 'flowscope-api']) {
    const c = named(renderObjects(BASE), 'Deployment', name, BASE.namespace)!.spec.template.spec.containers[0];
    const { opts: parsed } = await parseWithCommand(c.args, containerEnv(renderObjects(BASE), BASE.namespace, c));
    assert.equal(parsed.authTokenFile, undefined);
  }
});

test('manifests: the schema check catches a broken object (the validator is live)', () => {
  const ds = renderObjects(BASE).find((o) => o.kind === 'DaemonSet')! as Any;
  ds.spec.template.spec.containers[0].ports[0].containerPort = 'observer';
  assert.throws(() => validateSchema(ds as K8sObject));
});

test('manifests: the schema check catches a misspelt field', () => {
  const ds = renderObjects(BASE).find((o) => o.kind === 'DaemonSet')! as Any;
  ds.spec.template.spec.containers[0].volumeMounts[0].mountPropagaton = 'HostToContainer';
  assert.throws(() => validateSchema(ds as K8sObject), /fields the apps\/v1 DaemonSet model does not know/);
});

test('manifests: the command check catches a flag the service does not take', async () => {
  await assert.rejects(parseWithCommand(['relay', '--tls'], {}), /unknown option '--tls'/);
  await assert.rejects(parseWithCommand(['relay'], { FLOWSCOPE_RETENTION_DAYS: 'seven' }), /retention-days/);
});

/** The options a rendered workload's container starts with, as its command parses them. */
async function parsedOptions(objs: K8sObject[], name: string): Promise<Any> {
  const w = workloads(objs).find((x) => x.metadata.name === name)!;
  const c = w.spec.template.spec.containers[0];
  return (await parseWithCommand(c.args, containerEnv(objs, w.metadata.namespace, c))).opts;
}

test('manifests: a flag naming a file that no mount provides fails the reference check', async () => {
  const cases: [string, (objs: K8sObject[]) => void, RegExp][] = [
    [
      'a path beside the mounted keys',
      (objs) => {
        const args = workloads(objs).find((w) => w.metadata.name === 'flowscope-relay')!.spec.template.spec.containers[0].args as string[];
        args[args.indexOf('--tls-relay-client-ca-files') + 1] = '/etc/flowscope/tls/client-ca.crt';
      },
      /--tls-relay-client-ca-files \/etc\/flowscope\/tls\/client-ca.crt is no file of a mounted Secret/,
    ],
    [
      'the mount moved',
      (objs) => {
        workloads(objs)
          .find((w) => w.kind === 'DaemonSet')!
          .spec.template.spec.containers[0].volumeMounts.find((m: Any) => m.name === 'tls').mountPath = '/tls';
      },
      /--tls-server-cert-file \/etc\/flowscope\/tls\/tls.crt is no file/,
    ],
    [
      'a key left out of the volume',
      (objs) => {
        const v = workloads(objs)
          .find((w) => w.metadata.name === 'flowscope-api')!
          .spec.template.spec.volumes.find((x: Any) => x.name === 'tls');
        v.secret.items = v.secret.items.filter((i: Any) => i.key !== TLS_SECRET_KEYS.ca);
      },
      /--tls-ca-cert-files \/etc\/flowscope\/tls\/ca.crt is no file/,
    ],
    [
      'a mounted key no flag names',
      (objs) => {
        const v = workloads(objs)
          .find((w) => w.metadata.name === 'flowscope-api')!
          .spec.template.spec.volumes.find((x: Any) => x.name === 'tls');
        v.secret.items.push({ key: 'extra.pem', path: 'extra.pem' });
      },
      /mounted tls:extra.pem \(\/etc\/flowscope\/tls\/extra.pem\) is named by no flag/,
    ],
  ];
  for (const [name, mutate, message] of cases) {
    const objs = renderObjects(BASE);
    mutate(objs);
    await assert.rejects(checkReferences(objs), message, name);
  }
});

test('manifests: TLS is on by default (mTLS both ways, every Observer API caller), off with tls: false', async () => {
  const on = renderObjects(BASE);
  const relay = await parsedOptions(on, 'flowscope-relay');
  assert.equal(relay.tlsRelayServerCertFile, '/etc/flowscope/tls/tls.crt');
  assert.deepEqual(relay.tlsRelayClientCaFiles, ['/etc/flowscope/tls/ca.crt']);
  assert.equal(relay.tlsRelayClientAuth, 'all');
  assert.equal(relay.tlsRelayClientNamePattern, '*.default.collector.flowscope');
  assert.equal(relay.tlsHubbleServerName, '*.default.collector.flowscope');
  assert.equal(relay.tlsHubbleClientCertFile, '/etc/flowscope/tls/tls.crt');
  assert.equal(relay.healthListen, '0.0.0.0:4222');
  const collector = await parsedOptions(on, 'flowscope-collector');
  assert.deepEqual(collector.tlsClientCaFiles, ['/etc/flowscope/tls/ca.crt'], "the collector's Observer API requires client certificates");
  assert.equal(collector.tlsRelayClientCertFile, '/etc/flowscope/tls/tls.crt');
  assert.equal(collector.metricsTlsCertFile, undefined, '/metrics stays HTTP unless metricsTls');
  const api = await parsedOptions(on, 'flowscope-api');
  assert.equal(api.tls, true);
  assert.equal(api.tlsClientCertFile, '/etc/flowscope/tls/tls.crt');
  assert.equal(api.tlsServerCertFile, undefined, 'HTTP unless apiHttps');
  for (const w of workloads(on))
    for (const c of w.spec.template.spec.containers)
      for (const p of ['startupProbe', 'readinessProbe', 'livenessProbe'])
        if (c[p]?.grpc)
          assert.ok(
            c.ports.some((x: Any) => x.name === 'health' && x.containerPort === c[p].grpc.port),
            `${w.metadata.name}: ${p} on the plaintext health port`,
          );

  const off = renderObjects({ ...BASE, tls: false });
  for (const name of ['flowscope-relay', 'flowscope-collector', 'flowscope-api']) {
    const o = await parsedOptions(off, name);
    assert.deepEqual(
      Object.keys(o).filter((k) => /^(tls|metricsTls)/.test(k) && o[k] !== undefined && k !== 'tlsRelayClientAuth'),
      [],
      `${name}: no TLS flag with tls: false`,
    );
  }
  for (const w of workloads(off)) assert.ok(!w.spec.template.spec.volumes?.some((v: Any) => v.secret), `${w.metadata.name}: no Secret volume`);

  const secure = renderObjects({ ...BASE, apiHttps: true, metricsTls: true });
  assert.equal((await parsedOptions(secure, 'flowscope-api')).tlsServerCertFile, '/etc/flowscope/tls/tls.crt');
  const apiProbe = workloads(secure).find((w) => w.metadata.name === 'flowscope-api')!.spec.template.spec.containers[0].readinessProbe;
  assert.equal(apiProbe.httpGet.scheme, 'HTTPS');
  for (const m of secure.filter((o) => o.kind === 'ServiceMonitor') as Any[]) {
    const e = m.spec.endpoints[0];
    assert.equal(e.scheme, 'https');
    assert.deepEqual(e.tlsConfig.ca.secret, { name: m.metadata.name === 'flowscope-relay' ? TLS_SECRETS.relay : TLS_SECRETS.collector, key: 'ca.crt' });
  }
});

/** A certificate as node:tls hands it to checkServerIdentity and the relay's collector check. */
function peerCertificate(x: X509Certificate): tls.PeerCertificate {
  const cn = /^CN=(.*)$/m.exec(x.subject)?.[1];
  return { subject: { CN: cn }, subjectaltname: x.subjectAltName ?? '' } as unknown as tls.PeerCertificate;
}

/**
 * The names the rendered deployment's TLS checks, against the certificates in `dir` (made by
 * `flowscope certs --namespace`), each put in its Secret as README says. Throws on a mismatch.
 */
async function checkCertificateNames(objs: K8sObject[], dir: string): Promise<void> {
  const ca = new X509Certificate(fs.readFileSync(path.join(dir, 'ca.crt')));
  const certOf = (secret: string): X509Certificate => {
    const component = (Object.keys(TLS_SECRETS) as (keyof typeof TLS_SECRETS)[]).find((k) => TLS_SECRETS[k] === secret);
    assert.ok(component, `${secret} is a TLS Secret`);
    const x = new X509Certificate(fs.readFileSync(path.join(dir, `${TLS_SECRET_FILES[component]}.crt`)));
    assert.ok(x.checkIssued(ca) && x.verify(ca.publicKey), `${secret}: issued by ca.crt`);
    return x;
  };
  const secretOf = (name: string): string =>
    workloads(objs)
      .find((w) => w.metadata.name === name)!
      .spec.template.spec.volumes.find((v: Any) => v.name === 'tls').secret.secretName;
  const serves = (x: X509Certificate, host: string, who: string) => {
    const err = tls.checkServerIdentity(host, peerCertificate(x));
    assert.equal(err, undefined, `${who}: the certificate does not carry ${host}: ${err?.message}`);
    assert.ok(x.keyUsage?.includes('1.3.6.1.5.5.7.3.1'), `${who}: serverAuth`);
  };
  const client = (x: X509Certificate, who: string) => assert.ok(x.keyUsage?.includes('1.3.6.1.5.5.7.3.2'), `${who}: clientAuth`);
  const relayCert = certOf(secretOf('flowscope-relay'));
  const collectorCert = certOf(secretOf('flowscope-collector'));
  const apiCert = certOf(secretOf('flowscope-api'));
  const host = (addr: string) => addr.replace(/^tls:\/\//, '').replace(/:\d+$/, '');

  // Collectors and the API dial the relay's Service: its name is checked on the relay's certificate.
  const collector = await parsedOptions(objs, 'flowscope-collector');
  serves(relayCert, collector.tlsRelayServerName ?? host(collector.relay), 'collector → relay');
  client(collectorCert, 'collector → relay');
  const api = await parsedOptions(objs, 'flowscope-api');
  serves(relayCert, api.tlsServerName ?? host(api.server), 'api → relay');
  client(apiCert, 'api → relay');
  // The relay accepts the collectors' certificate for any node, and dials each node by the name it carries.
  const relay = await parsedOptions(objs, 'flowscope-relay');
  const guard = new ClientCertGuard(
    { require: { ingest: true, observer: true }, namePattern: relay.tlsRelayClientNamePattern },
    createLogger('test', 'silent'),
  );
  const clusterName = collector.clusterName as string;
  for (const node of ['kind-worker', 'ip-10-0-0-7.eu-west-1.compute.internal']) {
    const announced = clusterName === 'default' ? node : `${clusterName}/${node}`;
    const call = { getAuthContext: () => ({ sslPeerCertificate: peerCertificate(collectorCert) }), getPeer: () => '10.0.0.7:4000' };
    assert.equal(guard.checkCollector(call, announced), null, `relay ingest: a collector on ${announced}`);
    serves(collectorCert, peerServerName(announced, relay.tlsHubbleServerName), `relay → collector ${announced}`);
  }
  client(relayCert, 'relay → collector');
  // HTTPS API through its Service or a port-forward; ServiceMonitors with the name they check.
  if (api.tlsServerCertFile) for (const h of [`flowscope-api.${objs[0].metadata.name}.svc`, 'localhost']) serves(apiCert, h, `https ${h}`);
  for (const m of objs.filter((o) => o.kind === 'ServiceMonitor') as Any[]) {
    const e = m.spec.endpoints[0];
    if (e.tlsConfig) serves(certOf(e.tlsConfig.ca.secret.name), e.tlsConfig.serverName, `Prometheus → ${m.metadata.name}`);
  }
}

test('manifests: `flowscope certs --namespace --cluster-name` issues certificates with the names the rendered TLS checks', async () => {
  for (const [name, opts] of VARIANTS.filter(([, o]) => o.tls)) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-manifest-certs-'));
    try {
      makeCerts({
        outDir: dir,
        days: 30,
        hosts: ['localhost', '127.0.0.1'],
        nodes: [],
        clients: ['hubble'],
        cluster: { namespace: opts.namespace, clusterName: opts.clusterName },
      });
      await checkCertificateNames(renderObjects(opts), dir);
      // The check is live: certificates for another namespace or cluster do not fit.
      const other = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-manifest-certs-'));
      try {
        makeCerts({
          outDir: other,
          days: 30,
          hosts: [],
          nodes: [],
          clients: [],
          cluster: { namespace: `${opts.namespace}-x`, clusterName: `${opts.clusterName}-x` },
        });
        await assert.rejects(checkCertificateNames(renderObjects(opts), other), /does not carry/, name);
      } finally {
        fs.rmSync(other, { recursive: true, force: true });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('manifests: the collector has the capabilities and host mounts its sources need', () => {
  for (const source of ['cilium', 'kernel'] as const) {
    const ds = renderObjects({ ...BASE, source }).find((o) => o.kind === 'DaemonSet') as Any;
    const c = ds.spec.template.spec.containers[0];
    assert.deepEqual(c.securityContext.capabilities.add, ['BPF', 'PERFMON', 'NET_ADMIN', 'DAC_READ_SEARCH']);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
    const hostPaths = ds.spec.template.spec.volumes.filter((v: Any) => v.hostPath).map((v: Any) => v.hostPath.path);
    assert.ok(hostPaths.includes('/sys/fs/bpf'));
    assert.equal(hostPaths.includes('/sys/kernel/tracing'), source === 'kernel');
    assert.equal(hostPaths.includes('/sys/fs/cgroup'), source === 'kernel');
    // The heap flags V8 reads only at start reach node through NODE_OPTIONS.
    assert.deepEqual(c.env.find((e: Any) => e.name === 'NODE_OPTIONS')?.value.split(' '), [...COLLECTOR_NODE_FLAGS]);
    // So does the allocator's fixed mmap threshold.
    assert.equal(c.env.find((e: Any) => e.name === 'MALLOC_MMAP_THRESHOLD_')?.value, '131072');
    for (const [name, value] of Object.entries(COLLECTOR_ENV)) assert.equal(c.env.find((e: Any) => e.name === name)?.value, value, name);
  }
  for (const kind of ['relay', 'api']) {
    const d = renderObjects(BASE).find((o) => o.kind === 'Deployment' && o.metadata.name === `flowscope-${kind}`) as Any;
    assert.equal(d.spec.template.spec.securityContext.runAsNonRoot, true);
    assert.ok(d.spec.replicas >= 2);
  }
});

test('manifests: resource requests follow the measured per-flow figures', () => {
  const cpu = (o: ManifestOptions, name: string): string =>
    (renderObjects(o).find((x) => x.metadata.name === name && (x.kind === 'DaemonSet' || x.kind === 'Deployment')) as Any).spec.template.spec.containers[0]
      .resources.requests.cpu;
  // 11 µs per flow at 100k flows/s is 1.1 cores; relays share 1.5 µs per flow of the cluster's rate.
  assert.equal(cpu({ ...BASE, nodeFlowRate: 100_000 }, 'flowscope-collector'), '1100m');
  assert.equal(cpu({ ...BASE, clusterFlowRate: 1_000_000, relayReplicas: 3 }, 'flowscope-relay'), '500m');
});

test('manifests: PrometheusRules carry the shipped rule files, Grafana ConfigMaps the dashboards', () => {
  const objs = renderObjects(BASE) as Any[];
  const rules = ruleFiles();
  assert.ok(rules.length >= 3);
  for (const r of rules) {
    const onDisk = loadYaml(readFileSync(path.join(ROOT, 'dashboards/alerts', `${r.name}.yml`), 'utf8')) as Any;
    assert.deepEqual(objs.find((o) => o.kind === 'PrometheusRule' && o.metadata.name === r.name)?.spec.groups, onDisk.groups);
  }
  const boards = dashboardFiles();
  assert.ok(boards.length >= 5);
  for (const b of boards) {
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.data?.[b.file] !== undefined);
    assert.ok(cm, b.file);
    assert.equal(cm.metadata.labels.grafana_dashboard, '1');
    assert.equal((JSON.parse(cm.data[b.file]) as Any).uid, (JSON.parse(readFileSync(path.join(ROOT, 'dashboards/grafana', b.file), 'utf8')) as Any).uid);
  }
});

test('deploy/collector-rbac.yaml is the RBAC that manifests renders', () => {
  const file = JSON.parse(JSON.stringify(loadAllYaml(readFileSync(path.join(ROOT, 'deploy/collector-rbac.yaml'), 'utf8')))) as Any[];
  const strip = (o: Any): Any => ({ ...o, metadata: { name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) } });
  const rendered = (renderObjects(BASE) as Any[]).filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind));
  assert.deepEqual(file.map(strip), rendered.map(strip));
});

test('flowscope manifests: YAML on stdout that reads back as the objects; bad flags exit 2', () => {
  const ok = spawnSync(
    process.execPath,
    [BIN, 'manifests', '--clickhouse-url', 'http://ch:8123', '--namespace', 'obs', '--cluster-name', 'c1', '--relay-replicas', '3'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(ok.status, 0, ok.stderr);
  const docs = JSON.parse(JSON.stringify(loadAllYaml(ok.stdout))) as Any[];
  assert.deepEqual(
    docs,
    JSON.parse(JSON.stringify(renderObjects({ ...BASE, clickhouseUrl: 'http://ch:8123', namespace: 'obs', clusterName: 'c1', relayReplicas: 3 }))),
  );
  for (const [flags, want] of [
    [['--no-tls'], { tls: false }],
    [['--api-https', '--metrics-tls', '--collector-health-port', '9000'], { apiHttps: true, metricsTls: true, collectorHealthPort: 9000 }],
  ] as const) {
    const r = spawnSync(process.execPath, [BIN, 'manifests', '--clickhouse-url', 'http://ch:8123', ...flags], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      JSON.parse(JSON.stringify(loadAllYaml(r.stdout))),
      JSON.parse(JSON.stringify(renderObjects({ ...BASE, clickhouseUrl: 'http://ch:8123', ...want }))),
      flags.join(' '),
    );
  }
  for (const [args, message] of [
    [[], /--clickhouse-url is required/],
    [['--clickhouse-url', 'http://u:p@ch:8123'], /must not carry credentials/],
    [['--clickhouse-url', 'http://ch:8123', '--namespace', 'Bad_NS'], /--namespace/],
    [['--clickhouse-url', 'http://ch:8123', '--host-network'], /Hubble's/],
    [['--clickhouse-url', 'http://ch:8123', '--source', 'synthetic'], /--source/],
    [['--clickhouse-url', 'http://ch:8123', '--cluster-name', 'a'.repeat(33)], /--cluster-name/],
    [['--clickhouse-url', 'http://ch:8123', '--no-tls', '--api-https'], /--api-https uses the TLS Secrets/],
    [['--clickhouse-url', 'http://ch:8123', '--no-tls', '--metrics-tls'], /--metrics-tls uses the TLS Secrets/],
    [['--clickhouse-url', 'http://ch:8123', '--collector-health-port', '9965'], /must differ/],
  ] as const) {
    const r = spawnSync(process.execPath, [BIN, 'manifests', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /flowscope manifests --help/);
  }
});

test('README: the Deployment walkthrough makes the certificates and Secrets the rendered manifests use', async () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Deployment on Kubernetes'), readme.indexOf('## Sizing'));
  const flag = (line: string, name: string): string | undefined => new RegExp(`--${name} (\\S+)`).exec(line)?.[1];
  const certsLine = /^flowscope certs .*$/m.exec(section)?.[0];
  const manifestsLine = /^flowscope manifests (?:[^\n]*\\\n)*[^\n]*/m.exec(section)?.[0];
  assert.ok(certsLine && manifestsLine, 'the walkthrough runs flowscope certs and flowscope manifests');
  const namespace = flag(manifestsLine, 'namespace') ?? DEFAULT_MANIFEST_OPTIONS.namespace;
  const clusterName = flag(manifestsLine, 'cluster-name') ?? DEFAULT_MANIFEST_OPTIONS.clusterName;
  assert.equal(flag(certsLine, 'namespace'), namespace, 'certs --namespace is the manifests namespace');
  assert.equal(flag(certsLine, 'cluster-name') ?? 'default', clusterName, 'certs --cluster-name is the manifests cluster name');
  const outDir = flag(certsLine, 'out-dir')!;

  // for c in …; do kubectl -n NS create secret generic flowscope-$c-tls --from-file=KEY=PATH …; done
  const loop = /for c in ([a-z ]+); do\n\s*kubectl -n (\S+) create secret generic (\S+) \\\n\s*([^\n]+)\ndone/.exec(section);
  assert.ok(loop, 'the walkthrough creates the TLS Secrets in a loop');
  assert.equal(loop[2], namespace);
  const components = loop[1].trim().split(' ') as (keyof typeof TLS_SECRETS)[];
  assert.deepEqual([...components].sort(), Object.keys(TLS_SECRETS).sort(), 'one Secret per component');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-readme-certs-'));
  try {
    makeCerts({ outDir: dir, days: 30, hosts: ['localhost', '127.0.0.1'], nodes: [], clients: ['hubble'], cluster: { namespace, clusterName } });
    // The Secrets as the README makes them: each key from the file it names, as written by certs.
    for (const c of components) {
      assert.equal(loop[3].replaceAll('$c', c), TLS_SECRETS[c]);
      const files: Record<string, string> = Object.fromEntries(
        [...loop[4].matchAll(/--from-file=(\S+)=(\S+)/g)].map((m): [string, string] => [m[1], m[2].replaceAll('$c', c)]),
      );
      assert.deepEqual(Object.keys(files).sort(), Object.values(TLS_SECRET_KEYS).sort(), `${TLS_SECRETS[c]}: the keys the pods mount`);
      for (const [key, file] of Object.entries(files)) {
        assert.ok(file.startsWith(`${outDir}/`), file);
        const want = key === TLS_SECRET_KEYS.ca ? 'ca.crt' : `${TLS_SECRET_FILES[c]}.${key === TLS_SECRET_KEYS.cert ? 'crt' : 'key'}`;
        assert.equal(path.basename(file), want, `${TLS_SECRETS[c]} ${key}`);
        assert.ok(fs.existsSync(path.join(dir, path.basename(file))), `certs writes ${file}`);
      }
    }
    // The rendered deployment's names hold for those certificates.
    await checkCertificateNames(renderObjects({ ...BASE, namespace, clusterName }), dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // hubble through the port-forward: the client certificate certs made, localhost in the relay's names.
  assert.match(certsLine, /--clients hubble\b/);
  assert.match(section, /port-forward svc\/flowscope-relay 4245/);
  assert.match(
    section,
    /hubble observe --server tls:\/\/localhost:4245 --tls-ca-cert-files tls\/ca\.crt \\\n\s*--tls-client-cert-file tls\/client-hubble\.crt --tls-client-key-file tls\/client-hubble\.key/,
  );
});
