import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MonitorDecoder } from './decoder.js';
import {
  encodeDebugCapture,
  encodeDrop,
  encodePolicyVerdict,
  encodeTrace,
  encodeTraceSock,
  FLAG_IPV6,
  FLAG_L3_DEVICE,
  FLAG_VXLAN,
  FLAG_GENEVE,
} from '../records/monitor.js';
import { frame } from '../records/frame.js';
import { ACK, ETH_IPV4, ethernet, geneve, ipv4, PSH, SYN, udp, vxlan } from '../records/packet.js';
import { dnsMessage } from '../records/dns.js';
import type { Flow } from '../../proto/types.js';
import { fieldShape, Shape } from '../../schema/plain-flow.js';
import { blockToFlows, encodeFlowBlock, FlowBlockWriter } from '../../schema/native/flow-block.js';

const T = 1_700_000_000_123_456_000;
const rec = (data: Uint8Array) => ({ data, cpu: 0, timeNs: T });
const dec = (extra: Partial<ConstructorParameters<typeof MonitorDecoder>[0]> = {}) =>
  new MonitorDecoder({ nodeName: 'node-1', emitterVersion: '1.0.0', uuid: () => 'u', ...extra });

const EP: Record<string, number> = { '10.244.1.5': 1234, '10.244.1.9': 77, 'fd00::5': 1234 };
const localEndpointId = (ip: string) => EP[ip] ?? 0;

function common(f: Flow): Flow {
  assert.deepEqual(f.time, { seconds: 1_700_000_000, nanos: 123_456_000 });
  assert.equal(f.uuid, 'u');
  assert.deepEqual(f.emitter, { name: 'flowscope', version: '1.0.0' });
  assert.equal(f.node_name, 'node-1');
  const { time: _t, uuid: _u, emitter: _e, node_name: _n, ...rest } = f;
  return rest;
}

const syn = frame({ src: '10.244.1.5', dst: '10.244.2.7', tcp: { sport: 40000, dport: 8080, flags: SYN } });

test('drop v3: policy denied egress from a local endpoint', () => {
  const d = dec({ localEndpointId });
  const f = d.decode(
    rec(encodeDrop({ version: 3, reason: 133, source: 1234, srcLabel: 5001, dstLabel: 5002, line: 1432, file: 2, ifindex: 9, ipTraceId: 77 }, syn)),
  )!;
  assert.deepEqual(common(f), {
    verdict: 2,
    drop_reason: 133,
    ethernet: { source: '0a:58:0a:f4:01:05', destination: '0a:58:0a:f4:01:01' },
    IP: { source: '10.244.1.5', destination: '10.244.2.7', ipVersion: 1 },
    l4: { TCP: { source_port: 40000, destination_port: 8080, flags: { SYN: true } } },
    source: { ID: 1234, identity: 5001 },
    destination: { identity: 5002 },
    Type: 1,
    event_type: { type: 1, sub_type: 133 },
    traffic_direction: 2,
    file: { name: 'bpf_lxc.c', line: 1432 },
    ip_trace_id: { trace_id: 77 },
    drop_reason_desc: 133,
    Summary: 'TCP Flags: SYN',
  });
});

test('drop versions 0..2 decode the same packet; ingress when the emitter is not the source', () => {
  for (const version of [0, 1, 2] as const) {
    const f = dec({ localEndpointId }).decode(rec(encodeDrop({ version, reason: 181, source: 77, srcLabel: 2, dstLabel: 5002, file: 2 }, syn)))!;
    assert.equal(f.IP!.source, '10.244.1.5');
    assert.equal(f.traffic_direction, 1);
    assert.equal(f.drop_reason_desc, 181);
    assert.equal(f.ip_trace_id, undefined);
  }
});

test('trace v2 from-endpoint, new connection → EGRESS, is_reply false', () => {
  const f = dec({ localEndpointId }).decode(rec(encodeTrace({ obsPoint: 5, source: 1234, srcLabel: 5001, dstLabel: 5002, reason: 0, ifindex: 12 }, syn)))!;
  assert.equal(f.verdict, 1);
  assert.deepEqual(f.is_reply, { value: false });
  assert.equal(f.reply, undefined);
  assert.equal(f.trace_observation_point, 5);
  assert.equal(f.trace_reason, 1);
  assert.equal(f.traffic_direction, 2);
  assert.deepEqual(f.event_type, { type: 4, sub_type: 5 });
  assert.deepEqual(f.interface, { index: 12 });
});

test('trace to-endpoint reply: obs 0 → TO_ENDPOINT 101, sub_type omitted, reply direction', () => {
  const synack = frame({ src: '10.244.2.7', dst: '10.244.1.5', tcp: { sport: 8080, dport: 40000, flags: SYN | ACK } });
  const f = dec({ localEndpointId }).decode(rec(encodeTrace({ obsPoint: 0, source: 1234, srcLabel: 5002, dstLabel: 5001, reason: 2 }, synack)))!;
  assert.equal(f.trace_observation_point, 101);
  assert.deepEqual(f.event_type, { type: 4 });
  assert.deepEqual(f.is_reply, { value: true });
  assert.equal(f.reply, true);
  assert.equal(f.trace_reason, 3);
  // emitter 1234 is not the source endpoint (source is remote), reply → EGRESS (of the original flow)
  assert.equal(f.traffic_direction, 2);
  assert.equal(f.Summary, 'TCP Flags: SYN, ACK');
  assert.deepEqual(f.destination, { ID: 1234, identity: 5001 });
});

test('trace v1 OrigIP: SNAT sets source_xlated; encrypted bit; unknown reason leaves is_reply unset', () => {
  const pkt = frame({ src: '192.168.0.10', dst: '1.1.1.1', udp: { sport: 5000, dport: 443 } });
  const f = dec().decode(rec(encodeTrace({ version: 1, obsPoint: 11, source: 0, reason: 5 | 0x80, origIp: '10.244.1.5' }, pkt)))!;
  assert.deepEqual(f.IP, { source: '10.244.1.5', source_xlated: '192.168.0.10', destination: '1.1.1.1', ipVersion: 1, encrypted: true });
  assert.equal(f.is_reply, undefined);
  assert.equal(f.trace_reason, undefined);
  assert.equal(f.traffic_direction, undefined);
  assert.equal(f.Summary, 'UDP');
});

test('trace v0 and to-proxy port', () => {
  const f = dec().decode(rec(encodeTrace({ version: 0, obsPoint: 1, source: 9, dstId: 15001, reason: 1 }, syn)))!;
  assert.equal(f.proxy_port, 15001);
  assert.equal(f.trace_observation_point, 1);
  assert.equal(f.trace_reason, 2);
});

test('policy verdict current and old layouts: denied egress, allowed ingress, audit, redirect', () => {
  for (const layout of ['current', 'old'] as const) {
    const d = dec();
    const deny = d.decode(
      rec(encodePolicyVerdict({ layout, source: 1234, remoteLabel: 5002, verdict: -133, ingress: false, matchType: 1, dstPort: 8080, proto: 6 }, syn)),
    )!;
    assert.equal(deny.verdict, 2);
    assert.equal(deny.drop_reason_desc, 133);
    assert.equal(deny.is_reply, undefined);
    assert.deepEqual(deny.source, {});
    assert.deepEqual(deny.destination, { identity: 5002 });
    assert.equal(deny.traffic_direction, 2);
    assert.equal(deny.policy_match_type, 1);
    assert.deepEqual(deny.event_type, { type: 5 });
    assert.equal(deny.Summary, 'TCP Flags: SYN');
    const allow = d.decode(rec(encodePolicyVerdict({ layout, remoteLabel: 5001, verdict: 0, ingress: true, matchType: 2, authType: 1, perfPad: true }, syn)))!;
    assert.equal(allow.verdict, 1);
    assert.deepEqual(allow.is_reply, { value: false });
    assert.deepEqual(allow.source, { identity: 5001 });
    assert.equal(allow.traffic_direction, 1);
    assert.equal(allow.auth_type, 1);
    assert.equal(allow.IP!.source, '10.244.1.5');
    assert.equal(d.decode(rec(encodePolicyVerdict({ layout, remoteLabel: 1, verdict: 0, ingress: true, audited: true }, syn)))!.verdict, 4);
    assert.equal(d.decode(rec(encodePolicyVerdict({ layout, remoteLabel: 1, verdict: 15001, ingress: true }, syn)))!.verdict, 5);
  }
});

test('IPv6 with extension headers, ICMPv6 echo, L3 device', () => {
  const pkt = frame({ src: 'fd00::5', dst: 'fd00::1:7', l3Only: true, icmp: { type: 128, id: 1, seq: 1 }, ipv6Ext: [{ type: 0 }, { type: 60 }, { type: 44 }] });
  const f = dec({ localEndpointId }).decode(rec(encodeDrop({ version: 2, reason: 139, source: 1234, flags: FLAG_IPV6 | FLAG_L3_DEVICE }, pkt)))!;
  assert.equal(f.ethernet, undefined);
  assert.deepEqual(f.IP, { source: 'fd00::5', destination: 'fd00::1:7', ipVersion: 2 });
  assert.deepEqual(f.l4, { ICMPv6: { type: 128 } }); // a zero code is absent, as on the wire
  assert.equal(f.Summary, 'ICMPv6 EchoRequest');
  assert.equal(f.traffic_direction, 2);
});

test('ICMPv4 summaries use gopacket names', () => {
  const d = dec();
  const s = (type: number, code: number) =>
    d.decode(rec(encodeTrace({ obsPoint: 3, reason: 1 }, frame({ src: '10.0.0.1', dst: '10.0.0.2', icmp: { type, code } }))))!.Summary;
  assert.equal(s(8, 0), 'ICMPv4 EchoRequest');
  assert.equal(s(0, 0), 'ICMPv4 EchoReply');
  assert.equal(s(3, 3), 'ICMPv4 DestinationUnreachable(Port)');
  assert.equal(s(3, 99), 'ICMPv4 DestinationUnreachable(Code: 99)');
  assert.equal(s(8, 1), 'ICMPv4 EchoRequest(Code: 1)');
  assert.equal(s(42, 1), 'ICMPv4 42(1)');
  assert.equal(s(5, 2), 'ICMPv4 Redirect(TOS+Net)');
});

test('ICMP type and code: a zero is absent, so echo flows are ones the columns hold exactly', () => {
  const d = dec();
  const l4 = (type: number, code: number) =>
    d.decode(rec(encodeTrace({ obsPoint: 3, reason: 1 }, frame({ src: '10.0.0.1', dst: '10.0.0.2', icmp: { type, code } }))))!;
  assert.deepEqual(l4(8, 0).l4, { ICMPv4: { type: 8 } });
  assert.deepEqual(l4(0, 0).l4, { ICMPv4: {} });
  assert.deepEqual(l4(3, 3).l4, { ICMPv4: { type: 3, code: 3 } });
  assert.deepEqual(l4(0, 1).l4, { ICMPv4: { code: 1 } });
  for (const [type, code] of [
    [8, 0],
    [0, 0],
    [3, 3],
  ]) {
    const f = l4(type, code);
    assert.equal(fieldShape('l4', f.l4), Shape.Plain, `ICMPv4 ${type}/${code}`);
    assert.deepEqual(blockToFlows(encodeFlowBlock(new FlowBlockWriter(), [f]))[0].l4, f.l4, `ICMPv4 ${type}/${code} read back from its columns`);
  }
});

test('VXLAN and Geneve overlays: inner packet replaces outer, outer goes to tunnel', () => {
  const inner = frame({ src: '10.244.2.7', dst: '10.244.1.5', tcp: { sport: 8080, dport: 40000, flags: ACK | PSH } });
  for (const [flag, wrap, proto] of [
    [FLAG_VXLAN, vxlan, 1],
    [FLAG_GENEVE, geneve, 2],
  ] as const) {
    const outer = ethernet(
      '02:00:00:00:00:01',
      '02:00:00:00:00:02',
      ETH_IPV4,
      ipv4({ src: '172.18.0.3', dst: '172.18.0.2', proto: 17 }, udp(51000, flag === FLAG_VXLAN ? 8472 : 6081, wrap(42, inner))),
    );
    const f = dec().decode(rec(encodeTrace({ obsPoint: 9, reason: 1, flags: flag, capLen: 256 }, outer)))!;
    assert.deepEqual(f.tunnel, {
      protocol: proto,
      vni: 42,
      IP: { source: '172.18.0.3', destination: '172.18.0.2', ipVersion: 1 },
      l4: { UDP: { source_port: 51000, destination_port: flag === FLAG_VXLAN ? 8472 : 6081 } },
    });
    assert.equal(f.IP!.source, '10.244.2.7');
    assert.equal(f.ethernet!.source, '0a:58:0a:f4:01:05');
    assert.equal(f.Summary, 'TCP Flags: ACK, PSH');
  }
});

test('DNS payload → separate L7 DNS flows only when enabled; the L3/L4 flow is unchanged', () => {
  const resp = dnsMessage({
    id: 7,
    response: true,
    name: 'api.shop.svc.cluster.local',
    qtype: 'A',
    answers: [{ name: 'api.shop.svc.cluster.local', type: 'A', ttl: 30, data: '10.96.4.2' }],
  });
  const pkt = frame({ src: '10.244.0.10', dst: '10.244.1.5', udp: { sport: 53, dport: 40001, payload: resp } });
  const r = encodeTrace({ obsPoint: 0, reason: 2, capLen: 512 }, pkt);
  const off = dec();
  const plain = off.decode(rec(r))!;
  assert.equal(plain.l7, undefined);
  assert.equal(off.l7Flows.length, 0);
  const on = dec({ l7Dns: true });
  const f = on.decode(rec(r))!;
  assert.deepEqual(common(f), common(plain));
  assert.equal(on.l7Flows.length, 1);
  const l = on.l7Flows[0];
  assert.equal(l.Type, 2);
  assert.deepEqual(l.l7, {
    type: 2,
    dns: { query: 'api.shop.svc.cluster.local.', ips: ['10.96.4.2'], ttl: 30, qtypes: ['A'], rrtypes: ['A'], observation_source: 'datapath' },
  });
  const nx = dnsMessage({ id: 8, response: true, name: 'nope.example.', qtype: 'AAAA', rcode: 3 });
  const g = dec({ l7Dns: true });
  g.decode(rec(encodeTrace({ obsPoint: 0, reason: 2 }, frame({ src: '10.244.0.10', dst: '10.244.1.5', udp: { sport: 53, dport: 40001, payload: nx } }))));
  assert.deepEqual(g.l7Flows[0].l7, { type: 2, dns: { query: 'nope.example.', rcode: 3, qtypes: ['AAAA'], observation_source: 'datapath' } });
  assert.equal(on.stats.decoded, 1);
});

test('debug capture and trace-sock', () => {
  const d = dec({ cgroupIp: (id) => (id === 99 ? '10.244.1.5' : undefined) });
  const c = d.decode(rec(encodeDebugCapture({ point: 4, arg1: 7 }, syn)))!;
  assert.equal(c.verdict, 0);
  assert.equal(c.debug_capture_point, 4);
  assert.deepEqual(c.interface, { index: 7 });
  const p = d.decode(rec(encodeDebugCapture({ point: 8, arg1: 0x983a0000 }, syn)))!; // ntohl → 15000 (0x3a98)
  assert.equal(p.proxy_port, 0x3a98);
  const s = d.decode(rec(encodeTraceSock({ point: 2, dstIp: '10.96.0.10', dstPort: 53, cookie: 5, cgroupId: 99, proto: 2 })))!;
  assert.equal(s.Type, 3);
  assert.equal(s.verdict, 7);
  assert.deepEqual(s.IP, { source: '10.244.1.5', destination: '10.96.0.10', ipVersion: 1 });
  assert.deepEqual(s.l4, { UDP: { destination_port: 53 } });
  assert.deepEqual(s.event_type, { type: 7, sub_type: 2 });
  assert.equal(s.Summary, 'UDP');
});

test('malformed records never throw and are counted', () => {
  const d = dec();
  const good = encodeDrop({ reason: 133 }, syn);
  assert.equal(d.decode(rec(new Uint8Array(0))), null);
  assert.equal(d.decode(rec(good.subarray(0, 20))), null);
  const v9 = good.slice();
  v9[14] = 9;
  assert.equal(d.decode(rec(v9)), null);
  assert.equal(d.decode(rec(Uint8Array.of(42, 0, 0, 0))), null);
  assert.equal(d.decode(rec(Uint8Array.of(2, 0, 0, 0))), null);
  const shortCap = good.slice(0, 60); // cap_len says 54 packet bytes, 12 present
  assert.equal(d.decode(rec(shortCap)), null);
  const badIp = good.slice();
  badIp[48 + 14] = 0x41; // IHL 1
  assert.equal(d.decode(rec(badIp)), null);
  assert.deepEqual(d.stats, { decoded: 0, truncated: 2, unknownType: 1, unknownVersion: 1, badLength: 1, badPacket: 1, skipped: 1 });
  // Random garbage: no throw.
  let seed = 1;
  for (let i = 0; i < 20000; i++) {
    const n = (seed = (seed * 1103515245 + 12345) >>> 0) % 120;
    const b = new Uint8Array(n);
    for (let j = 0; j < n; j++) b[j] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    if (n > 0) b[0] = [1, 3, 4, 5, 7][i % 5];
    d.decode(rec(b));
  }
});

test('empty packet: no L2–L4 fields, no Summary', () => {
  const f = dec().decode(rec(encodeDrop({ reason: 151 }, new Uint8Array(0))))!;
  assert.equal(f.IP, undefined);
  assert.equal(f.Summary, undefined);
  assert.deepEqual(f.source, {});
});

test('cluster-qualified node name', () => {
  const f = new MonitorDecoder({ nodeName: 'w1', clusterName: 'topgun' }).decode(rec(encodeDrop({ reason: 133 }, syn)))!;
  assert.equal(f.node_name, 'topgun/w1');
  assert.match(f.uuid!, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
