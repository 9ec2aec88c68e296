// The static inventory: everything the collector needs to name the addresses it sees, as a JSON
// document (written by the synthetic cluster model, or by hand / a kubectl export). Validated on
// load with path-qualified error messages.
import { readFileSync } from 'node:fs';

export interface InventoryWorkload {
  name: string;
  kind: string;
}

export interface InventoryNode {
  name: string;
  /** Node addresses (InternalIP, CiliumInternalIP …): they resolve to reserved:host / reserved:remote-node. */
  ips: string[];
  podCIDRs?: string[];
}

export interface InventoryEndpoint {
  /** Node the pod runs on. */
  node: string;
  /** Cilium endpoint ID on that node (1..65535). */
  id: number;
  namespace: string;
  pod_name: string;
  ips: string[];
  /** Security identity. */
  identity: number;
  /** Labels as "source:key=value" (k8s:app=frontend …). */
  labels: string[];
  workloads?: InventoryWorkload[];
  /** MAC of the pod's interface, informative. */
  mac?: string;
}

export interface InventoryServicePort {
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  name?: string;
  targetPort?: number;
}

export interface InventoryService {
  namespace: string;
  name: string;
  clusterIPs: string[];
  ports: InventoryServicePort[];
  /** Pods behind the service, by "namespace/pod_name". */
  backends?: string[];
}

export interface InventoryIdentity {
  id: number;
  labels: string[];
}

export interface InventoryExternal {
  ip: string;
  names: string[];
}

export interface Inventory {
  cluster: string;
  nodes: InventoryNode[];
  endpoints: InventoryEndpoint[];
  services: InventoryService[];
  /** Identity → labels, for identities seen without a known IP (e.g. remote clusters, CIDR identities). */
  identities?: InventoryIdentity[];
  /** Known outside addresses and their DNS names (fill destination_names / source_names). */
  external?: InventoryExternal[];
  /** Addresses of the kube-apiserver (identity 7 when the record carries none). */
  kubeApiserver?: string[];
}

export class InventoryError extends Error {}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function fail(path: string, msg: string): never {
  throw new InventoryError(`inventory: ${path}: ${msg}`);
}
function str(o: Obj, k: string, path: string): string {
  const v = o[k];
  if (typeof v !== 'string' || v === '') fail(`${path}.${k}`, 'must be a non-empty string');
  return v;
}
function int(o: Obj, k: string, path: string, min: number, max: number): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(`${path}.${k}`, `must be an integer in [${min}, ${max}]`);
  return v;
}
function strArr(o: Obj, k: string, path: string, optional = false): string[] {
  const v = o[k];
  if (v === undefined && optional) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(`${path}.${k}`, 'must be an array of strings');
  return v as string[];
}
function arr(o: Obj, k: string, path: string, optional = false): unknown[] {
  const v = o[k];
  if (v === undefined && optional) return [];
  if (!Array.isArray(v)) fail(`${path}.${k}`, 'must be an array');
  return v;
}
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
function checkIp(ip: string, path: string): void {
  const m = IPV4.exec(ip);
  if (m ? m.slice(1).some((x) => Number(x) > 255) : !/^[0-9a-fA-F:.]+$/.test(ip) || !ip.includes(':')) fail(path, `invalid IP address ${JSON.stringify(ip)}`);
}
const LABEL = /^[a-z0-9-]+:[^=]+(=.*)?$/i;

/** Validates a parsed JSON value as an Inventory; throws InventoryError naming the first bad field. */
export function validateInventory(v: unknown): Inventory {
  if (!isObj(v)) fail('$', 'must be an object');
  str(v, 'cluster', '$');
  arr(v, 'nodes', '$').forEach((n, i) => {
    const p = `$.nodes[${i}]`;
    if (!isObj(n)) fail(p, 'must be an object');
    str(n, 'name', p);
    strArr(n, 'ips', p).forEach((ip, j) => checkIp(ip, `${p}.ips[${j}]`));
    strArr(n, 'podCIDRs', p, true);
  });
  const nodeNames = new Set((v.nodes as InventoryNode[]).map((n) => n.name));
  arr(v, 'endpoints', '$').forEach((e, i) => {
    const p = `$.endpoints[${i}]`;
    if (!isObj(e)) fail(p, 'must be an object');
    const node = str(e, 'node', p);
    if (!nodeNames.has(node)) fail(`${p}.node`, `unknown node ${JSON.stringify(node)}`);
    int(e, 'id', p, 1, 65535);
    str(e, 'namespace', p);
    str(e, 'pod_name', p);
    strArr(e, 'ips', p).forEach((ip, j) => checkIp(ip, `${p}.ips[${j}]`));
    int(e, 'identity', p, 1, 0xffffffff);
    strArr(e, 'labels', p).forEach((l, j) => {
      if (!LABEL.test(l)) fail(`${p}.labels[${j}]`, `label ${JSON.stringify(l)} is not "source:key=value"`);
    });
    arr(e, 'workloads', p, true).forEach((w, j) => {
      if (!isObj(w)) fail(`${p}.workloads[${j}]`, 'must be an object');
      str(w, 'name', `${p}.workloads[${j}]`);
      str(w, 'kind', `${p}.workloads[${j}]`);
    });
  });
  arr(v, 'services', '$').forEach((s, i) => {
    const p = `$.services[${i}]`;
    if (!isObj(s)) fail(p, 'must be an object');
    str(s, 'namespace', p);
    str(s, 'name', p);
    strArr(s, 'clusterIPs', p).forEach((ip, j) => checkIp(ip, `${p}.clusterIPs[${j}]`));
    arr(s, 'ports', p).forEach((sp, j) => {
      const q = `${p}.ports[${j}]`;
      if (!isObj(sp)) fail(q, 'must be an object');
      int(sp, 'port', q, 1, 65535);
      if (!['TCP', 'UDP', 'SCTP'].includes(sp.protocol as string)) fail(`${q}.protocol`, 'must be TCP, UDP or SCTP');
    });
    strArr(s, 'backends', p, true);
  });
  arr(v, 'identities', '$', true).forEach((x, i) => {
    const p = `$.identities[${i}]`;
    if (!isObj(x)) fail(p, 'must be an object');
    int(x, 'id', p, 1, 0xffffffff);
    strArr(x, 'labels', p);
  });
  arr(v, 'external', '$', true).forEach((x, i) => {
    const p = `$.external[${i}]`;
    if (!isObj(x)) fail(p, 'must be an object');
    checkIp(str(x, 'ip', p), `${p}.ip`);
    strArr(x, 'names', p);
  });
  strArr(v, 'kubeApiserver', '$', true).forEach((ip, j) => checkIp(ip, `$.kubeApiserver[${j}]`));
  return v as unknown as Inventory;
}

/** Reads and validates an inventory JSON file. */
export function loadInventory(file: string): Inventory {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InventoryError(`inventory: cannot read ${file}: ${(e as Error).message}`);
  }
  return validateInventory(parsed);
}
