// Traffic of one node of the synthetic cluster, as the Cilium datapath would report it: each
// scenario is a short conversation rendered into the monitor records the node's BPF programs
// emit (trace from-endpoint / to-endpoint / to-overlay / from-overlay / to-stack / to-network,
// policy verdicts, drops), byte-exact through the record encoders.
import { encodeDrop, encodePolicyVerdict, encodeTrace, FLAG_IPV6, FLAG_VXLAN } from '../records/monitor.js';
import { frame } from '../records/frame.js';
import { dnsMessage, type DnsAnswer } from '../records/dns.js';
import { ACK, ETH_IPV4, ethernet, FIN, icmpv4, ipv4, PSH, RST, SYN, udp, vxlan, concat } from '../records/packet.js';
import type { ClusterModel, SynthNode, SynthPod, SynthService } from './cluster.js';
import { Rng } from './rng.js';

// Trace observation points (datapath codes) and reasons.
const TO_ENDPOINT = 0,
  TO_HOST = 2,
  TO_STACK = 3,
  TO_OVERLAY = 4,
  FROM_ENDPOINT = 5,
  FROM_HOST = 7,
  FROM_OVERLAY = 9,
  FROM_NETWORK = 10,
  TO_NETWORK = 11;
const NEW = 0,
  ESTABLISHED = 1,
  REPLY = 2;
const ID_HOST = 1,
  ID_WORLD = 2,
  ID_REMOTE_NODE = 6;
const FILE_LXC = 2,
  FILE_HOST = 1,
  FILE_CT = 108,
  FILE_NODEPORT = 104;
const VXLAN_PORT = 8472;
const ROUTER_MAC = '0a:58:0a:f4:00:01';

// The last four are failures `flowscope why` diagnoses, between fixed workloads so a test can ask
// about one pair: refused (frontend → cart:7070 answered by RST), unanswered (frontend →
// redis:6379, SYNs retransmitted without an answer), mtu (cart → db:5432, a full-size segment
// dropped with "Fragmentation needed" and an ICMP fragmentation-needed back), dnsFail (frontend's
// lookups of payments/ledger/inventory.shop: NXDOMAIN, SERVFAIL, no response). They are off by
// default (weight 0) and switched on with the collector's --synthetic-weights.
export const SCENARIOS = [
  'http',
  'dns',
  'policyAllow',
  'policyDeny',
  'drop',
  'icmp',
  'world',
  'ipv6',
  'scrape',
  'health',
  'inbound',
  'refused',
  'unanswered',
  'mtu',
  'dnsFail',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const DEFAULT_WEIGHTS: Record<Scenario, number> = {
  http: 26,
  dns: 20,
  policyAllow: 6,
  policyDeny: 3,
  drop: 4,
  icmp: 3,
  world: 7,
  ipv6: 4,
  scrape: 6,
  health: 6,
  inbound: 15,
  refused: 0,
  unanswered: 0,
  mtu: 0,
  dnsFail: 0,
};

/**
 * `--synthetic-weights`: "name=weight,…" over SCENARIOS, e.g. "refused=5,http=0"; the scenarios
 * not named keep their default weight. Throws on an unknown name or a weight that is not 0..1000.
 */
export function parseScenarioWeights(text: string): Partial<Record<Scenario, number>> {
  const out: Partial<Record<Scenario, number>> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const m = /^\s*([A-Za-z][A-Za-z0-9]*)\s*=\s*(\d{1,4})\s*$/.exec(part);
    if (!m) throw new Error(`"${part}" is not name=weight`);
    if (!(SCENARIOS as readonly string[]).includes(m[1])) throw new Error(`unknown scenario "${m[1]}" (expected one of ${SCENARIOS.join(', ')})`);
    const w = Number(m[2]);
    if (w > 1000) throw new Error(`weight of ${m[1]} must be 0..1000`);
    out[m[1] as Scenario] = w;
  }
  if (Object.keys(out).length > 0 && SCENARIOS.every((sc) => (out[sc] ?? DEFAULT_WEIGHTS[sc]) === 0)) throw new Error('every scenario would have weight 0');
  return out;
}

/** Names `dnsFail` looks up, with the answer each gets (rcode, or no response at all). */
export const DNS_FAIL_NAMES = {
  nxdomain: 'payments.shop.svc.cluster.local.',
  servfail: 'ledger.shop.svc.cluster.local.',
  timeout: 'inventory.shop.svc.cluster.local.',
} as const;
/** Next-hop MTU the `mtu` scenario's ICMP fragmentation-needed announces. */
export const SYNTHETIC_PATH_MTU = 1230;

interface Peer {
  ip: string;
  mac: string;
  identity: number;
  ep: number;
  local: boolean;
  node: SynthNode;
  pod?: SynthPod;
}

export class NodeTraffic {
  readonly node: SynthNode;
  private readonly m: ClusterModel;
  private readonly r: Rng;
  private readonly local: SynthPod[];
  private readonly remote: SynthPod[];
  private readonly byApp = new Map<string, SynthPod[]>();
  private readonly svcByApp = new Map<string, SynthService>();
  private ifindex = new Map<SynthPod, number>();
  private port = 32768;

  constructor(model: ClusterModel, nodeName: string, seed: number) {
    const node = model.nodes.find((n) => n.name === nodeName);
    if (node === undefined) throw new Error(`synthetic: no node ${JSON.stringify(nodeName)} in cluster (have ${model.nodes.map((n) => n.name).join(', ')})`);
    this.node = node;
    this.m = model;
    this.r = new Rng(seed ^ (node.index * 0x9e3779b1));
    this.local = model.pods.filter((p) => p.node === nodeName);
    this.remote = model.pods.filter((p) => p.node !== nodeName);
    model.pods.forEach((p, i) => {
      const a = this.byApp.get(p.app) ?? [];
      a.push(p);
      this.byApp.set(p.app, a);
      this.ifindex.set(p, 20 + i);
    });
    for (const s of model.services) if (s.app) this.svcByApp.set(s.app, s);
  }

  private ephemeral(): number {
    this.port = this.port >= 60999 ? 32768 : this.port + this.r.int(1, 7);
    return this.port;
  }
  private peer(p: SynthPod, v6 = false): Peer {
    return {
      ip: v6 ? p.ip6 : p.ip,
      mac: p.mac,
      identity: p.identity,
      ep: p.endpointId,
      local: p.node === this.node.name,
      node: this.m.nodes[p.nodeIndex],
      pod: p,
    };
  }
  private localPod(apps?: string[]): SynthPod | undefined {
    const c = apps ? this.local.filter((p) => apps.includes(p.app)) : this.local.filter((p) => p.app !== 'node-exporter');
    return c.length > 0 ? this.r.pick(c) : undefined;
  }
  private podOf(app: string): SynthPod {
    return this.r.pick(this.byApp.get(app)!);
  }

  /** One scenario's records, in emission order. */
  generate(s: Scenario): Uint8Array[] {
    switch (s) {
      case 'http':
        return this.http();
      case 'dns':
        return this.dns();
      case 'policyAllow':
        return this.policyAllow();
      case 'policyDeny':
        return this.policyDeny();
      case 'drop':
        return this.drop();
      case 'icmp':
        return this.icmp();
      case 'world':
        return this.world();
      case 'ipv6':
        return this.http(true);
      case 'scrape':
        return this.scrape();
      case 'health':
        return this.health();
      case 'inbound':
        return this.inbound();
      case 'refused':
        return this.refused();
      case 'unanswered':
        return this.unanswered();
      case 'mtu':
        return this.mtu();
      case 'dnsFail':
        return this.dnsFail();
    }
  }

  // A packet observed leaving `src` towards `dst` (already LB-translated), rendered at this node.
  private hop(out: Uint8Array[], src: Peer, dst: Peer, pkt: Uint8Array, reason: number, v6: boolean, firstHopPkt?: Uint8Array): void {
    const flags = v6 ? FLAG_IPV6 : 0;
    if (src.local) {
      out.push(
        encodeTrace(
          { obsPoint: FROM_ENDPOINT, source: src.ep, srcLabel: src.identity, reason, flags, ifindex: this.ifindex.get(src.pod!) },
          firstHopPkt ?? pkt,
        ),
      );
      if (dst.local)
        out.push(
          encodeTrace(
            {
              obsPoint: TO_ENDPOINT,
              source: dst.ep,
              srcLabel: src.identity,
              dstLabel: dst.identity,
              dstId: dst.ep,
              reason,
              flags,
              ifindex: this.ifindex.get(dst.pod!),
            },
            pkt,
          ),
        );
      else out.push(encodeTrace({ obsPoint: TO_OVERLAY, source: src.ep, srcLabel: src.identity, dstLabel: dst.identity, reason, flags, ifindex: 4 }, pkt));
    } else if (dst.local) {
      const outer = this.encap(src.node, pkt, src.identity);
      out.push(encodeTrace({ obsPoint: FROM_OVERLAY, source: 0, srcLabel: src.identity, reason: 5, flags: FLAG_VXLAN, ifindex: 4, capLen: 256 }, outer));
      out.push(
        encodeTrace(
          {
            obsPoint: TO_ENDPOINT,
            source: dst.ep,
            srcLabel: src.identity,
            dstLabel: dst.identity,
            dstId: dst.ep,
            reason,
            flags,
            ifindex: this.ifindex.get(dst.pod!),
          },
          pkt,
        ),
      );
    }
  }

  private encap(from: SynthNode, inner: Uint8Array, vni: number): Uint8Array {
    return ethernet(
      '02:42:ac:12:00:0' + (2 + from.index),
      '02:42:ac:12:00:0' + (2 + this.node.index),
      ETH_IPV4,
      ipv4({ src: from.ip, dst: this.node.ip, proto: 17 }, udp(this.r.int(32768, 60999), VXLAN_PORT, vxlan(vni & 0xffffff, inner))),
    );
  }

  private tcpConv(out: Uint8Array[], c: Peer, s: Peer, dport: number, v6: boolean, vip?: { ip: string; port: number }, reqLen = 120, respLen = 600): void {
    const sport = this.ephemeral();
    let cseq = this.r.int(1, 2 ** 31),
      sseq = this.r.int(1, 2 ** 31);
    const f = (from: Peer, to: Peer, fp: number, tp: number, flags: number, payload?: Uint8Array, seq = 0, ack = 0) =>
      frame({ src: from.ip, dst: to.ip, srcMac: from.mac, dstMac: ROUTER_MAC, tcp: { sport: fp, dport: tp, flags, seq, ack, payload } });
    // The client's own program sees the service address before load-balancing.
    const pre = (flags: number, payload?: Uint8Array, seq = 0, ack = 0) =>
      vip ? frame({ src: c.ip, dst: vip.ip, srcMac: c.mac, dstMac: ROUTER_MAC, tcp: { sport, dport: vip.port, flags, seq, ack, payload } }) : undefined;
    const req = new Uint8Array(reqLen),
      resp = new Uint8Array(respLen);
    this.hop(out, c, s, f(c, s, sport, dport, SYN, undefined, cseq), NEW, v6, pre(SYN, undefined, cseq));
    this.hop(out, s, c, f(s, c, dport, sport, SYN | ACK, undefined, sseq, ++cseq), REPLY, v6);
    this.hop(out, c, s, f(c, s, sport, dport, ACK | PSH, req, cseq, ++sseq), ESTABLISHED, v6, pre(ACK | PSH, req, cseq, sseq));
    cseq += reqLen;
    this.hop(out, s, c, f(s, c, dport, sport, ACK | PSH, resp, sseq, cseq), REPLY, v6);
    sseq += respLen;
    this.hop(out, c, s, f(c, s, sport, dport, ACK | FIN, undefined, cseq, sseq), ESTABLISHED, v6, pre(ACK | FIN, undefined, cseq, sseq));
  }

  private ingressVerdict(out: Uint8Array[], c: Peer, s: Peer, dport: number, v6: boolean, pkt: Uint8Array): void {
    out.push(encodePolicyVerdict({ source: s.ep, remoteLabel: c.identity, verdict: 0, ingress: true, matchType: 2, dstPort: dport, proto: 6, ipv6: v6 }, pkt));
  }

  private http(v6 = false): Uint8Array[] {
    const out: Uint8Array[] = [];
    const routes: [string, string][] = [
      ['frontend', 'backend'],
      ['backend', 'cart'],
      ['cart', 'redis'],
      ['backend', 'db'],
      ['loadgen', 'frontend'],
      ['grafana', 'prometheus'],
    ];
    const mine = routes.filter(([a]) => this.local.some((p) => p.app === a));
    const [ca, sa] = mine.length > 0 ? this.r.pick(mine) : this.r.pick(routes);
    const client = this.local.find((p) => p.app === ca) ? this.r.pick(this.local.filter((p) => p.app === ca)) : this.podOf(ca);
    const server = this.podOf(sa);
    const svc = this.svcByApp.get(sa)!;
    const port = svc.ports[0];
    const c = this.peer(client, v6),
      s = this.peer(server, v6);
    if (!c.local && !s.local) return this.inbound();
    if (s.local)
      this.ingressVerdict(out, c, s, port.targetPort, v6, frame({ src: c.ip, dst: s.ip, tcp: { sport: 40000, dport: port.targetPort, flags: SYN } }));
    this.tcpConv(out, c, s, port.targetPort, v6, v6 ? undefined : { ip: svc.clusterIP, port: port.port }, this.r.int(80, 400), this.r.int(200, 1400));
    return out;
  }

  private inbound(): Uint8Array[] {
    // A remote client reaching a pod of this node over the overlay.
    const targets = this.local.filter((p) => this.svcByApp.has(p.app) && p.app !== 'kube-dns');
    if (targets.length === 0) return this.health();
    const server = this.r.pick(targets);
    const clientApps: Record<string, string> = {
      backend: 'frontend',
      cart: 'backend',
      redis: 'cart',
      db: 'backend',
      frontend: 'loadgen',
      prometheus: 'grafana',
      grafana: 'loadgen',
      'metrics-server': 'prometheus',
    };
    const candidates = this.remote.filter((p) => p.app === (clientApps[server.app] ?? 'loadgen'));
    const client = candidates.length > 0 ? this.r.pick(candidates) : this.r.pick(this.remote);
    const port = this.svcByApp.get(server.app)!.ports[0].targetPort;
    const out: Uint8Array[] = [];
    const c = this.peer(client),
      s = this.peer(server);
    this.ingressVerdict(out, c, s, port, false, frame({ src: c.ip, dst: s.ip, tcp: { sport: 40000, dport: port, flags: SYN } }));
    this.tcpConv(out, c, s, port, false, undefined, this.r.int(80, 300), this.r.int(100, 1400));
    return out;
  }

  private dns(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const clientPod = this.localPod();
    if (clientPod === undefined) return this.health();
    const coredns = this.peer(this.podOf('kube-dns'));
    const ns = clientPod.namespace;
    const svcNames = this.m.services.map((s) => `${s.name}.${s.namespace}.svc.cluster.local`);
    const ext = this.r.pick(this.m.external);
    type Q = { name: string; qtype: 'A' | 'AAAA'; rcode: number; answers: DnsAnswer[] };
    const qs: Q[] = [];
    if (this.r.chance(0.55)) {
      const name = this.r.pick(svcNames);
      const svc = this.m.services.find((s) => name.startsWith(`${s.name}.${s.namespace}.`))!;
      qs.push({ name: name + '.', qtype: 'A', rcode: 0, answers: [{ name: name + '.', type: 'A', ttl: 30, data: svc.clusterIP }] });
      if (this.r.chance(0.5)) qs.push({ name: name + '.', qtype: 'AAAA', rcode: 0, answers: [] });
    } else {
      // Resolver search path: the short name is tried under each search domain first (NXDOMAIN).
      const host = ext.names[0];
      if (this.r.chance(0.7)) {
        for (const dom of [`${ns}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'])
          qs.push({ name: `${host}.${dom}.`, qtype: 'A', rcode: 3, answers: [] });
      }
      const v6 = ext.ip.includes(':');
      const answers: DnsAnswer[] = this.r.chance(0.3)
        ? [
            { name: `${host}.`, type: 'CNAME', ttl: 300, data: `edge.${host}.` },
            { name: `edge.${host}.`, type: v6 ? 'AAAA' : 'A', ttl: 60, data: ext.ip },
          ]
        : [{ name: `${host}.`, type: v6 ? 'AAAA' : 'A', ttl: this.r.int(30, 300), data: ext.ip }];
      qs.push({ name: `${host}.`, qtype: v6 ? 'AAAA' : 'A', rcode: 0, answers });
      if (this.r.chance(0.05)) qs.push({ name: `typo-${host}.`, qtype: 'A', rcode: 3, answers: [] });
    }
    for (const q of qs) this.dnsExchange(out, clientPod, coredns, q);
    return out;
  }

  // One lookup from a local client through the kube-dns service; `q.rcode` undefined = the
  // resolver never answers (the client times out).
  private dnsExchange(
    out: Uint8Array[],
    clientPod: SynthPod,
    coredns: Peer,
    q: { name: string; qtype: 'A' | 'AAAA'; rcode?: number; answers: DnsAnswer[] },
  ): void {
    const c = this.peer(clientPod);
    const kubeDns = this.svcByApp.get('kube-dns')!;
    const id = this.r.int(1, 65535);
    const sport = this.ephemeral();
    const query = dnsMessage({ id, response: false, name: q.name, qtype: q.qtype });
    const answered = q.rcode !== undefined;
    const resp = dnsMessage({ id, response: true, name: q.name, qtype: q.qtype, rcode: q.rcode ?? 0, answers: q.answers });
    const udpFrame = (src: string, dst: string, sp: number, dp: number, payload: Uint8Array, smac = c.mac) =>
      frame({ src, dst, srcMac: smac, dstMac: ROUTER_MAC, udp: { sport: sp, dport: dp, payload } });
    out.push(
      encodeTrace(
        { obsPoint: FROM_ENDPOINT, source: c.ep, srcLabel: c.identity, reason: NEW, ifindex: this.ifindex.get(clientPod), capLen: 256 },
        udpFrame(c.ip, kubeDns.clusterIP, sport, 53, query),
      ),
    );
    const toDns = udpFrame(c.ip, coredns.ip, sport, 53, query);
    if (coredns.local) {
      out.push(
        encodeTrace(
          {
            obsPoint: TO_ENDPOINT,
            source: coredns.ep,
            srcLabel: c.identity,
            dstLabel: coredns.identity,
            dstId: coredns.ep,
            reason: NEW,
            ifindex: this.ifindex.get(coredns.pod!),
            capLen: 256,
          },
          toDns,
        ),
      );
      if (answered)
        out.push(
          encodeTrace(
            { obsPoint: FROM_ENDPOINT, source: coredns.ep, srcLabel: coredns.identity, reason: REPLY, ifindex: this.ifindex.get(coredns.pod!), capLen: 256 },
            udpFrame(coredns.ip, c.ip, 53, sport, resp, coredns.mac),
          ),
        );
    } else {
      out.push(
        encodeTrace({ obsPoint: TO_OVERLAY, source: c.ep, srcLabel: c.identity, dstLabel: coredns.identity, reason: NEW, ifindex: 4, capLen: 256 }, toDns),
      );
      if (answered)
        out.push(
          encodeTrace(
            { obsPoint: FROM_OVERLAY, source: 0, srcLabel: coredns.identity, reason: 5, flags: FLAG_VXLAN, ifindex: 4, capLen: 320 },
            this.encap(coredns.node, udpFrame(coredns.ip, c.ip, 53, sport, resp, coredns.mac), coredns.identity),
          ),
        );
    }
    if (!answered) return;
    // Delivered to the client after reverse NAT: from the service address.
    out.push(
      encodeTrace(
        {
          obsPoint: TO_ENDPOINT,
          source: c.ep,
          srcLabel: coredns.identity,
          dstLabel: c.identity,
          dstId: c.ep,
          reason: REPLY,
          ifindex: this.ifindex.get(clientPod),
          capLen: 512,
        },
        udpFrame(kubeDns.clusterIP, c.ip, 53, sport, resp, ROUTER_MAC),
      ),
    );
  }

  // A client pod of `app` on this node, or undefined: the failure scenarios are rendered from the
  // client's node, so a node without one emits a health check instead.
  private localClient(app: string): Peer | undefined {
    const c = this.local.filter((p) => p.app === app);
    return c.length > 0 ? this.peer(this.r.pick(c)) : undefined;
  }

  private refused(): Uint8Array[] {
    // Nothing listens on cart's port: the server's kernel answers the SYN with RST|ACK.
    const c = this.localClient('frontend');
    if (c === undefined) return this.health();
    const s = this.peer(this.podOf('cart'));
    const out: Uint8Array[] = [];
    const coredns = this.peer(this.podOf('kube-dns'));
    const svc = this.svcByApp.get('cart')!;
    this.dnsExchange(out, c.pod!, coredns, {
      name: `${svc.name}.${svc.namespace}.svc.cluster.local.`,
      qtype: 'A',
      rcode: 0,
      answers: [{ name: `${svc.name}.${svc.namespace}.svc.cluster.local.`, type: 'A', ttl: 30, data: svc.clusterIP }],
    });
    const sport = this.ephemeral();
    const seq = this.r.int(1, 2 ** 31);
    const port = svc.ports[0];
    const syn = frame({ src: c.ip, dst: s.ip, srcMac: c.mac, dstMac: ROUTER_MAC, tcp: { sport, dport: port.targetPort, flags: SYN, seq } });
    const pre = frame({ src: c.ip, dst: svc.clusterIP, srcMac: c.mac, dstMac: ROUTER_MAC, tcp: { sport, dport: port.port, flags: SYN, seq } });
    this.hop(out, c, s, syn, NEW, false, pre);
    const rst = frame({
      src: s.ip,
      dst: c.ip,
      srcMac: s.mac,
      dstMac: ROUTER_MAC,
      tcp: { sport: port.targetPort, dport: sport, flags: RST | ACK, ack: seq + 1 },
    });
    this.hop(out, s, c, rst, REPLY, false);
    return out;
  }

  private unanswered(): Uint8Array[] {
    // redis never answers frontend's SYNs (a listener that is not there behind a silent host
    // firewall, or a pod that is gone): the client retransmits and gives up.
    const c = this.localClient('frontend');
    if (c === undefined) return this.health();
    const s = this.peer(this.podOf('redis'));
    const out: Uint8Array[] = [];
    const sport = this.ephemeral();
    const seq = this.r.int(1, 2 ** 31);
    const port = this.svcByApp.get('redis')!.ports[0].targetPort;
    for (let i = 0; i < 3; i++)
      this.hop(out, c, s, frame({ src: c.ip, dst: s.ip, srcMac: c.mac, dstMac: ROUTER_MAC, tcp: { sport, dport: port, flags: SYN, seq } }), NEW, false);
    return out;
  }

  private mtu(): Uint8Array[] {
    // cart → db: the handshake passes, the first full-size segment does not fit the path. The
    // datapath drops it ("Fragmentation needed") and the node answers with ICMP type 3 code 4.
    const c = this.localClient('cart');
    if (c === undefined) return this.health();
    const s = this.peer(this.podOf('db'));
    const out: Uint8Array[] = [];
    const sport = this.ephemeral();
    const dport = this.svcByApp.get('db')!.ports[0].targetPort;
    let cseq = this.r.int(1, 2 ** 31);
    const sseq = this.r.int(1, 2 ** 31);
    const f = (from: Peer, to: Peer, fp: number, tp: number, flags: number, seq: number, ack: number, payload?: Uint8Array) =>
      frame({ src: from.ip, dst: to.ip, srcMac: from.mac, dstMac: ROUTER_MAC, tcp: { sport: fp, dport: tp, flags, seq, ack, payload } });
    this.hop(out, c, s, f(c, s, sport, dport, SYN, cseq, 0), NEW, false);
    this.hop(out, s, c, f(s, c, dport, sport, SYN | ACK, sseq, ++cseq), REPLY, false);
    this.hop(out, c, s, f(c, s, sport, dport, ACK, cseq, sseq + 1), ESTABLISHED, false);
    const big = f(c, s, sport, dport, ACK | PSH, cseq, sseq + 1, new Uint8Array(1400));
    out.push(
      encodeDrop({ reason: 136, source: c.ep, srcLabel: c.identity, dstLabel: s.identity, line: 233, file: 111, ifindex: this.ifindex.get(c.pod!) }, big),
    );
    // ICMP payload: the offending packet's IP header and the first 8 bytes of its TCP header.
    const ipStart = 14;
    const quoted = big.subarray(ipStart, ipStart + 28);
    const icmp = icmpv4(3, 4, 0, SYNTHETIC_PATH_MTU, quoted);
    const pkt = ethernet(ROUTER_MAC, c.mac, ETH_IPV4, ipv4({ src: this.node.ip, dst: c.ip, proto: 1 }, icmp));
    out.push(
      encodeTrace(
        { obsPoint: TO_ENDPOINT, source: c.ep, srcLabel: ID_HOST, dstLabel: c.identity, dstId: c.ep, reason: NEW, ifindex: this.ifindex.get(c.pod!) },
        pkt,
      ),
    );
    return out;
  }

  private dnsFail(): Uint8Array[] {
    // frontend looks up names that fail three ways: no such name, a failing upstream, no answer.
    const c = this.localClient('frontend');
    if (c === undefined) return this.health();
    const out: Uint8Array[] = [];
    const coredns = this.peer(this.podOf('kube-dns'));
    this.dnsExchange(out, c.pod!, coredns, { name: DNS_FAIL_NAMES.nxdomain, qtype: 'A', rcode: 3, answers: [] });
    this.dnsExchange(out, c.pod!, coredns, { name: DNS_FAIL_NAMES.servfail, qtype: 'A', rcode: 2, answers: [] });
    this.dnsExchange(out, c.pod!, coredns, { name: DNS_FAIL_NAMES.timeout, qtype: 'A', answers: [] });
    return out;
  }

  private policyAllow(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const pod = this.localPod(['frontend', 'backend', 'cart', 'loadgen', 'grafana']);
    if (pod === undefined) return this.health();
    const p = this.peer(pod);
    const target = this.podOf(this.r.pick(['backend', 'cart', 'redis']));
    const port = this.svcByApp.get(target.app)!.ports[0].targetPort;
    const pkt = frame({ src: p.ip, dst: target.ip, srcMac: p.mac, dstMac: ROUTER_MAC, tcp: { sport: this.ephemeral(), dport: port, flags: SYN } });
    out.push(
      encodePolicyVerdict(
        { source: p.ep, remoteLabel: target.identity, verdict: 0, ingress: false, matchType: this.r.pick([1, 2, 3]), dstPort: port, proto: 6 },
        pkt,
      ),
    );
    // Occasionally a pod talks to the apiserver: allowed by an L3-only rule on the reserved identity.
    if (this.r.chance(0.3)) {
      const api = frame({
        src: p.ip,
        dst: this.m.apiserver.ip,
        srcMac: p.mac,
        dstMac: ROUTER_MAC,
        tcp: { sport: this.ephemeral(), dport: this.m.apiserver.port, flags: SYN },
      });
      out.push(encodePolicyVerdict({ source: p.ep, remoteLabel: 7, verdict: 0, ingress: false, matchType: 1, dstPort: this.m.apiserver.port, proto: 6 }, api));
    }
    return out;
  }

  private policyDeny(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const pod = this.localPod(['frontend', 'loadgen']) ?? this.localPod();
    if (pod === undefined) return this.health();
    const p = this.peer(pod);
    const db = this.podOf('db');
    const denylist = this.r.chance(0.3);
    const pkt = frame({ src: p.ip, dst: db.ip, srcMac: p.mac, dstMac: ROUTER_MAC, tcp: { sport: this.ephemeral(), dport: 5432, flags: SYN } });
    const reason = denylist ? 181 : 133;
    out.push(
      encodePolicyVerdict(
        { source: p.ep, remoteLabel: db.identity, verdict: -reason, ingress: false, matchType: denylist ? 2 : 0, dstPort: 5432, proto: 6 },
        pkt,
      ),
    );
    out.push(
      encodeDrop(
        { reason, source: p.ep, srcLabel: p.identity, dstLabel: db.identity, line: denylist ? 1470 : 1324, file: FILE_LXC, ifindex: this.ifindex.get(pod) },
        pkt,
      ),
    );
    return out;
  }

  private drop(): Uint8Array[] {
    const pod = this.localPod();
    if (pod === undefined) return this.health();
    const p = this.peer(pod);
    const other = this.podOf(this.r.pick(['backend', 'cart', 'redis', 'frontend']));
    const kind = this.r.int(0, 5);
    const tcpPkt = (flags: number) =>
      frame({ src: p.ip, dst: other.ip, srcMac: p.mac, dstMac: ROUTER_MAC, tcp: { sport: this.ephemeral(), dport: 8080, flags } });
    switch (kind) {
      case 0:
        return [
          encodeDrop(
            { reason: 155, source: p.ep, srcLabel: p.identity, dstLabel: other.identity, line: 812, file: FILE_CT, ifindex: this.ifindex.get(pod) },
            tcpPkt(SYN),
          ),
        ];
      case 1: {
        // A packet for a pod that no longer exists on this node.
        const stale = `10.244.${this.node.index}.${this.r.int(200, 250)}`;
        return [
          encodeDrop(
            { reason: 151, source: 0, srcLabel: other.identity, dstLabel: ID_WORLD, line: 1210, file: FILE_HOST, ifindex: 2 },
            frame({ src: other.ip, dst: stale, tcp: { sport: 8080, dport: this.ephemeral(), flags: ACK } }),
          ),
        ];
      }
      case 2: {
        // LLDP frame on a pod interface: no IP at all.
        const lldp = concat(Uint8Array.from([0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e, 0x0a, 0x58, 0x0a, 0xf4, 0x01, 0x05, 0x88, 0xcc]), new Uint8Array(46));
        return [encodeDrop({ reason: 139, source: p.ep, srcLabel: p.identity, line: 1689, file: FILE_LXC, ifindex: this.ifindex.get(pod) }, lldp)];
      }
      case 3:
        return [
          encodeDrop(
            { reason: 158, source: p.ep, srcLabel: p.identity, line: 744, file: FILE_NODEPORT, ifindex: this.ifindex.get(pod) },
            frame({
              src: p.ip,
              dst: this.r.pick(this.m.services).clusterIP,
              srcMac: p.mac,
              dstMac: ROUTER_MAC,
              tcp: { sport: this.ephemeral(), dport: 8443, flags: SYN },
            }),
          ),
        ];
      case 4:
        return [
          encodeDrop(
            { reason: 132, source: p.ep, srcLabel: p.identity, line: 1020, file: FILE_LXC, ifindex: this.ifindex.get(pod) },
            frame({ src: '10.0.13.37', dst: other.ip, srcMac: p.mac, dstMac: ROUTER_MAC, udp: { sport: 5353, dport: 5353 } }),
          ),
        ];
      default:
        return [
          encodeDrop(
            { reason: 181, source: p.ep, srcLabel: p.identity, dstLabel: ID_WORLD, line: 1470, file: FILE_LXC, ifindex: this.ifindex.get(pod) },
            frame({ src: p.ip, dst: '198.51.100.23', srcMac: p.mac, dstMac: ROUTER_MAC, tcp: { sport: this.ephemeral(), dport: 22, flags: SYN } }),
          ),
        ];
    }
  }

  private icmp(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const pod = this.localPod();
    if (pod === undefined) return this.health();
    const c = this.peer(pod),
      s = this.peer(this.r.pick(this.m.pods));
    if (c.ip === s.ip) return this.health();
    const id = this.r.int(1, 65535);
    for (let seq = 1; seq <= 2; seq++) {
      this.hop(out, c, s, frame({ src: c.ip, dst: s.ip, srcMac: c.mac, dstMac: ROUTER_MAC, icmp: { type: 8, id, seq } }), seq === 1 ? NEW : ESTABLISHED, false);
      this.hop(out, s, c, frame({ src: s.ip, dst: c.ip, srcMac: s.mac, dstMac: ROUTER_MAC, icmp: { type: 0, id, seq } }), REPLY, false);
    }
    return out;
  }

  private world(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const pod = this.localPod(['backend', 'frontend', 'cart', 'loadgen']) ?? this.localPod();
    if (pod === undefined) return this.health();
    const p = this.peer(pod);
    const ext = this.r.pick(this.m.external.filter((x) => !x.ip.includes(':')));
    const sport = this.ephemeral(),
      nport = this.r.int(30000, 60000);
    const dst = ext.ip;
    const f = (src: string, d: string, sp: number, dp: number, flags: number) =>
      frame({ src, dst: d, srcMac: p.mac, dstMac: ROUTER_MAC, tcp: { sport: sp, dport: dp, flags } });
    out.push(
      encodeTrace(
        { obsPoint: FROM_ENDPOINT, source: p.ep, srcLabel: p.identity, dstLabel: ID_WORLD, reason: NEW, ifindex: this.ifindex.get(pod) },
        f(p.ip, dst, sport, 443, SYN),
      ),
    );
    out.push(
      encodeTrace(
        { obsPoint: TO_STACK, source: p.ep, srcLabel: p.identity, dstLabel: ID_WORLD, reason: NEW, ifindex: this.ifindex.get(pod) },
        f(p.ip, dst, sport, 443, SYN),
      ),
    );
    // Masqueraded on the way out: the header carries the node address, OrigIP the pod's.
    out.push(
      encodeTrace(
        { obsPoint: TO_NETWORK, source: 0, srcLabel: ID_HOST, dstLabel: ID_WORLD, reason: NEW, ifindex: 2, origIp: p.ip },
        f(this.node.ip, dst, nport, 443, SYN),
      ),
    );
    out.push(encodeTrace({ obsPoint: FROM_NETWORK, source: 0, srcLabel: ID_WORLD, reason: 5, ifindex: 2 }, f(dst, this.node.ip, 443, nport, SYN | ACK)));
    out.push(
      encodeTrace(
        { obsPoint: TO_ENDPOINT, source: p.ep, srcLabel: ID_WORLD, dstLabel: p.identity, dstId: p.ep, reason: REPLY, ifindex: this.ifindex.get(pod) },
        f(dst, p.ip, 443, sport, SYN | ACK),
      ),
    );
    out.push(
      encodeTrace(
        { obsPoint: FROM_ENDPOINT, source: p.ep, srcLabel: p.identity, dstLabel: ID_WORLD, reason: ESTABLISHED, ifindex: this.ifindex.get(pod) },
        f(p.ip, dst, sport, 443, ACK | PSH),
      ),
    );
    return out;
  }

  private scrape(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const prom = this.peer(this.podOf('prometheus'));
    const targets = this.local.filter((p) => p.app !== 'prometheus');
    if (targets.length === 0) return this.health();
    const t = this.r.pick(targets);
    const port = t.app === 'node-exporter' ? 9100 : t.app === 'kube-dns' ? 9153 : 8080;
    const s = this.peer(t);
    if (port === 8080)
      out.push(
        encodePolicyVerdict(
          { source: s.ep, remoteLabel: prom.identity, verdict: 0, ingress: true, matchType: 3, dstPort: port, proto: 6 },
          frame({ src: prom.ip, dst: s.ip, tcp: { sport: 40000, dport: port, flags: SYN } }),
        ),
      );
    this.tcpConv(out, prom, s, port, false, undefined, 180, this.r.int(2000, 9000));
    return out;
  }

  private health(): Uint8Array[] {
    // Kubelet probe from the host (identity 1) to a local pod, or node-to-node health.
    const out: Uint8Array[] = [];
    const pod = this.localPod() ?? this.local[0];
    if (pod === undefined) {
      const other = this.m.nodes.find((n) => n !== this.node)!;
      out.push(
        encodeTrace(
          { obsPoint: FROM_NETWORK, source: 0, srcLabel: ID_REMOTE_NODE, reason: 5, ifindex: 2 },
          frame({ src: other.ip, dst: this.node.ip, icmp: { type: 8, id: 1, seq: this.r.int(1, 9999) } }),
        ),
      );
      return out;
    }
    const p = this.peer(pod);
    const port = this.svcByApp.get(pod.app)?.ports[0].targetPort ?? 8080;
    const sport = this.ephemeral();
    const hostMac = '0a:58:0a:f4:00:01';
    const f = (src: string, dst: string, sp: number, dp: number, flags: number) =>
      frame({ src, dst, srcMac: hostMac, dstMac: p.mac, tcp: { sport: sp, dport: dp, flags } });
    out.push(encodeTrace({ obsPoint: FROM_HOST, source: 0, srcLabel: ID_HOST, reason: 5, ifindex: 3 }, f(this.node.ip, p.ip, sport, port, SYN)));
    out.push(
      encodeTrace(
        { obsPoint: TO_ENDPOINT, source: p.ep, srcLabel: ID_HOST, dstLabel: p.identity, dstId: p.ep, reason: NEW, ifindex: this.ifindex.get(pod) },
        f(this.node.ip, p.ip, sport, port, SYN),
      ),
    );
    out.push(
      encodeTrace(
        { obsPoint: TO_HOST, source: p.ep, srcLabel: p.identity, dstLabel: ID_HOST, reason: REPLY, ifindex: 3 },
        f(p.ip, this.node.ip, port, sport, SYN | ACK),
      ),
    );
    return out;
  }
}
