// Known datapath records for the end-to-end tests: two nodes of a small cluster, each record
// labelled so a test can state exactly which flows a filter must return.
import fs from 'node:fs';
import path from 'node:path';
import { encodeDrop, encodePolicyVerdict, encodeTrace, FLAG_IPV6 } from '../collector/records/monitor.js';
import { frame } from '../collector/records/frame.js';
import { ACK, SYN } from '../collector/records/packet.js';
import { recordsToText } from '../collector/sources/file-writer.js';
import type { ExactTimeRecord } from '../collector/decode/decoder.js';
import type { Inventory } from '../collector/enrich/inventory.js';

export const FRONTEND = '10.244.1.10',
  DB = '10.244.1.20',
  COREDNS = '10.244.2.30',
  PROM = '10.244.2.40';

export const INVENTORY: Inventory = {
  cluster: 'default',
  nodes: [
    { name: 'node-a', ips: ['10.0.0.1'] },
    { name: 'node-b', ips: ['10.0.0.2'] },
  ],
  endpoints: [
    {
      node: 'node-a',
      id: 101,
      namespace: 'shop',
      pod_name: 'frontend-7d9f8-abcde',
      ips: [FRONTEND],
      identity: 1001,
      labels: ['k8s:app=frontend', 'k8s:io.kubernetes.pod.namespace=shop'],
      workloads: [{ name: 'frontend', kind: 'Deployment' }],
    },
    {
      node: 'node-a',
      id: 102,
      namespace: 'shop',
      pod_name: 'db-0',
      ips: [DB],
      identity: 1002,
      labels: ['k8s:app=db', 'k8s:io.kubernetes.pod.namespace=shop'],
      workloads: [{ name: 'db', kind: 'StatefulSet' }],
    },
    {
      node: 'node-b',
      id: 201,
      namespace: 'kube-system',
      pod_name: 'coredns-5d78c-x2x9z',
      ips: [COREDNS],
      identity: 102,
      labels: ['k8s:io.kubernetes.pod.namespace=kube-system', 'k8s:k8s-app=kube-dns'],
      workloads: [{ name: 'coredns', kind: 'Deployment' }],
    },
    {
      node: 'node-b',
      id: 202,
      namespace: 'monitoring',
      pod_name: 'prometheus-0',
      ips: [PROM],
      identity: 1003,
      labels: ['k8s:app=prometheus', 'k8s:io.kubernetes.pod.namespace=monitoring'],
      workloads: [{ name: 'prometheus', kind: 'StatefulSet' }],
    },
  ],
  services: [{ namespace: 'kube-system', name: 'kube-dns', clusterIPs: ['10.96.0.10'], ports: [{ port: 53, protocol: 'UDP' }] }],
};

export interface LabelledRecord {
  label: string;
  node: 'node-a' | 'node-b';
  offsetMs: number;
  data: Uint8Array;
}

const tcp = (src: string, dst: string, sport: number, dport: number, flags: number) => frame({ src, dst, tcp: { sport, dport, flags } });
const udp = (src: string, dst: string, sport: number, dport: number) => frame({ src, dst, udp: { sport, dport } });

export const RECORDS: LabelledRecord[] = [
  {
    label: 'A1',
    node: 'node-a',
    offsetMs: 1000,
    data: encodeTrace({ obsPoint: 5, source: 101, srcLabel: 1001, dstLabel: 1002, reason: 0 }, tcp(FRONTEND, DB, 40001, 5432, SYN)),
  },
  {
    label: 'A2',
    node: 'node-a',
    offsetMs: 2000,
    data: encodePolicyVerdict(
      { source: 101, remoteLabel: 2, verdict: -133, dstPort: 443, proto: 6, ingress: false, matchType: 0 },
      tcp(FRONTEND, '8.8.8.8', 40002, 443, SYN),
    ),
  },
  {
    label: 'A3',
    node: 'node-a',
    offsetMs: 3000,
    data: encodeDrop({ reason: 133, source: 102, srcLabel: 1001, dstLabel: 1002, dstId: 102, file: 2, line: 1234 }, tcp(FRONTEND, DB, 40003, 5432, SYN)),
  },
  {
    label: 'A4',
    node: 'node-a',
    offsetMs: 4000,
    data: encodeTrace({ obsPoint: 0, source: 101, srcLabel: 1002, dstLabel: 1001, reason: 2, dstId: 101 }, tcp(DB, FRONTEND, 5432, 40001, SYN | ACK)),
  },
  {
    label: 'A5',
    node: 'node-a',
    offsetMs: 5000,
    data: encodeDrop({ version: 2, reason: 151, flags: FLAG_IPV6, srcLabel: 2, dstLabel: 2 }, udp('fd00::1', 'fd00::2', 5353, 9999)),
  },
  {
    label: 'B1',
    node: 'node-b',
    offsetMs: 1500,
    data: encodeTrace({ obsPoint: 0, source: 201, srcLabel: 1003, dstLabel: 102, reason: 0, dstId: 201 }, udp(PROM, COREDNS, 33000, 53)),
  },
  {
    label: 'B2',
    node: 'node-b',
    offsetMs: 2500,
    data: encodeTrace({ obsPoint: 5, source: 201, srcLabel: 102, dstLabel: 1003, reason: 2 }, udp(COREDNS, PROM, 53, 33000)),
  },
  {
    label: 'B3',
    node: 'node-b',
    offsetMs: 3500,
    data: encodeDrop({ reason: 181, source: 202, srcLabel: 1003, dstLabel: 1001 }, tcp(PROM, FRONTEND, 41000, 80, SYN)),
  },
  {
    label: 'B4',
    node: 'node-b',
    offsetMs: 4500,
    data: encodeTrace(
      { obsPoint: 3, source: 202, srcLabel: 1003, dstLabel: 1001, reason: 0 },
      frame({ src: PROM, dst: FRONTEND, icmp: { type: 8, code: 0, id: 7, seq: 1 } }),
    ),
  },
];

/** The time of a labelled record, as RFC 3339 (what --since/--until accept). */
export function recordTime(base: number, label: string): string {
  return new Date(base + RECORDS.find((r) => r.label === label)!.offsetMs).toISOString();
}

/** Writes the inventory and one record file per node, plus malformed lines that must be skipped. */
export function writeFixtures(dir: string, baseMs: number): { inventory: string; files: Record<string, string> } {
  const inventory = path.join(dir, 'inventory.json');
  fs.writeFileSync(inventory, JSON.stringify(INVENTORY));
  const files: Record<string, string> = {};
  for (const node of ['node-a', 'node-b'] as const) {
    const recs: ExactTimeRecord[] = RECORDS.filter((r) => r.node === node).map((r) => {
      const ms = baseMs + r.offsetMs;
      return { data: r.data, cpu: 0, timeNs: ms * 1e6, timeSeconds: Math.floor(ms / 1000), timeNanos: (ms % 1000) * 1e6 };
    });
    const text =
      recordsToText(recs) +
      '{"cpu":0,"data":"01ff"}\n' + // truncated DropNotify: counted, skipped
      'not json at all\n' + // bad line: counted, skipped
      `{"cpu":0,"data":"${'09'.repeat(40)}"}\n`; // unknown message type 9: counted, skipped
    files[node] = path.join(dir, `${node}.jsonl`);
    fs.writeFileSync(files[node], text);
  }
  return { inventory, files };
}
