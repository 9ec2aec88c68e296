// Decoder fuzz test: a million random and mutated records (truncated, wrong versions, bad
// lengths, random bytes, corrupted packets and DNS payloads built by collector/records) through
// MonitorDecoder. Nothing may throw, and every record must land in exactly one counter:
// decoded + truncated + unknownType + unknownVersion + badLength + badPacket + skipped == fed.
// The seed is random per run (FLOWSCOPE_FUZZ_SEED replays one) and printed on failure;
// FLOWSCOPE_FUZZ_RECORDS changes the count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MonitorDecoder } from './decoder.js';
import type { DecodeStats } from './stats.js';
import { Rng } from '../synthetic/rng.js';
import {
  encodeDebugCapture,
  encodeDrop,
  encodePolicyVerdict,
  encodeTrace,
  encodeTraceSock,
  FLAG_GENEVE,
  FLAG_IPV6,
  FLAG_L3_DEVICE,
  FLAG_VXLAN,
} from '../records/monitor.js';
import { frame } from '../records/frame.js';
import { ACK, ETH_IPV4, ethernet, geneve, ipv4, PSH, SYN, udp, vxlan } from '../records/packet.js';
import { dnsMessage } from '../records/dns.js';
import type { RawRecord } from '../source.js';

const RECORDS = Number(process.env.FLOWSCOPE_FUZZ_RECORDS ?? 1_000_000);
const SEED = Number(process.env.FLOWSCOPE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

// Well-formed records of every type, version and packet shape the encoders know.
function corpus(): Uint8Array[] {
  const dnsQ = dnsMessage({ id: 7, response: false, name: 'api.shop.svc.cluster.local', qtype: 'A' });
  const dnsR = dnsMessage({
    id: 7,
    response: true,
    name: 'www.example.com',
    qtype: 'A',
    answers: [
      { name: 'www.example.com', type: 'CNAME', ttl: 60, data: 'edge.example.net' },
      { name: 'edge.example.net', type: 'A', ttl: 20, data: '1.2.3.4' },
      { name: 'edge.example.net', type: 'AAAA', ttl: 20, data: '2001:db8::1' },
    ],
  });
  const tcpDns = Uint8Array.from([0, dnsQ.length, ...dnsQ, 0, dnsR.length, ...dnsR]);
  const packets = [
    frame({ src: '10.244.1.5', dst: '10.244.2.7', tcp: { sport: 40000, dport: 8080, flags: SYN } }),
    frame({ src: '10.244.1.5', dst: '10.96.0.10', udp: { sport: 40001, dport: 53, payload: dnsQ } }),
    frame({ src: '10.96.0.10', dst: '10.244.1.5', udp: { sport: 53, dport: 40001, payload: dnsR } }),
    frame({ src: '10.244.1.5', dst: '10.96.0.10', tcp: { sport: 40002, dport: 53, flags: ACK | PSH, payload: tcpDns } }),
    frame({ src: '10.244.1.5', dst: '8.8.8.8', icmp: { type: 8, id: 1, seq: 1 } }),
    frame({ src: 'fd00::5', dst: 'fd00::1:7', icmp: { type: 128, id: 1, seq: 1 }, ipv6Ext: [{ type: 0 }, { type: 60 }, { type: 44 }] }),
    frame({ src: 'fd00::5', dst: 'fd00::53', udp: { sport: 40003, dport: 53, payload: dnsQ } }),
    frame({ src: '10.244.1.5', dst: '10.244.2.7', sctp: { sport: 5000, dport: 6000 } }),
    frame({ src: '10.244.1.5', dst: '10.244.2.7', l3Only: true, tcp: { sport: 1, dport: 2, flags: ACK } }),
  ];
  const inner = frame({ src: '10.244.2.7', dst: '10.244.1.5', udp: { sport: 53, dport: 40001, payload: dnsR } });
  const overlay = (wrap: typeof vxlan | typeof geneve, port: number) =>
    ethernet('02:00:00:00:00:01', '02:00:00:00:00:02', ETH_IPV4, ipv4({ src: '172.18.0.3', dst: '172.18.0.2', proto: 17 }, udp(51000, port, wrap(42, inner))));
  const out: Uint8Array[] = [];
  for (const p of packets) {
    const v6 = p.length > 14 && p[12] === 0x86 && p[13] === 0xdd;
    const l3 = p[0] >> 4 === 4 && p.length < 14 + 20;
    const flags = (v6 ? FLAG_IPV6 : 0) | (l3 ? FLAG_L3_DEVICE : 0);
    for (const version of [0, 1, 2, 3] as const) out.push(encodeDrop({ version, reason: 133, source: 12, flags, capLen: 512 }, p));
    for (const version of [0, 1, 2] as const)
      for (const obsPoint of [0, 3, 5])
        out.push(encodeTrace({ version, obsPoint, reason: obsPoint === 0 ? 2 : 0, flags, capLen: 512, origIp: version >= 1 ? '10.0.0.1' : undefined }, p));
    for (const layout of ['current', 'old'] as const)
      out.push(encodePolicyVerdict({ layout, remoteLabel: 5002, verdict: -133, ingress: false, ipv6: v6, perfPad: true }, p));
    out.push(encodeDebugCapture({ point: 4, arg1: 7 }, p));
  }
  out.push(encodeTrace({ obsPoint: 9, reason: 1, flags: FLAG_VXLAN, capLen: 512 }, overlay(vxlan, 8472)));
  out.push(encodeTrace({ obsPoint: 9, reason: 1, flags: FLAG_GENEVE, capLen: 512 }, overlay(geneve, 6081)));
  out.push(encodeTraceSock({ point: 2, dstIp: '10.96.0.10', dstPort: 53, cookie: 5, cgroupId: 99, proto: 2 }));
  out.push(encodeTraceSock({ point: 3, dstIp: 'fd00::1', dstPort: 443, proto: 1 }));
  return out;
}

// Offsets worth corrupting: header fields (type, subtype, version, cap_len, flags) and the
// length fields of the packet layers behind a 56-byte trace header.
const HOT = [0, 1, 12, 13, 14, 26, 27, 36, 56 + 12, 56 + 13, 56 + 14, 56 + 16, 56 + 17, 56 + 14 + 4, 56 + 14 + 20 + 4, 56 + 14 + 20 + 5, 56 + 14 + 20 + 12];

function mutate(r: Rng, base: Uint8Array): Uint8Array {
  switch (r.int(0, 7)) {
    case 0:
      return base.slice(0, r.int(0, base.length)); // truncated
    case 1: {
      const b = base.slice();
      b[14] = r.int(0, 255);
      return b;
    } // version
    case 2: {
      const b = base.slice();
      b[12] = r.int(0, 255);
      b[13] = r.int(0, 255);
      return b;
    } // cap_len
    case 3: {
      const b = base.slice();
      for (let i = r.int(1, 8); i > 0; i--) b[r.int(0, b.length - 1)] = r.int(0, 255);
      return b;
    } // random bytes
    case 4: {
      const b = base.slice();
      const o = r.pick(HOT);
      if (o < b.length) b[o] = r.chance(0.5) ? r.int(0, 255) : r.pick([0, 1, 0x7f, 0x80, 0xc0, 0xff]);
      return b;
    }
    case 5: {
      // bytes near the end (where DNS names, counts and pointers live)
      const b = base.slice();
      for (let i = r.int(1, 4); i > 0; i--) b[Math.max(0, b.length - r.int(1, 80))] = r.pick([0, 0xc0, 0xff, r.int(0, 255)]);
      return b;
    }
    case 6: {
      const b = new Uint8Array(base.length + r.int(1, 64));
      b.set(base);
      for (let i = base.length; i < b.length; i++) b[i] = r.int(0, 255);
      return b;
    } // trailing garbage
    default: {
      const b = base.slice();
      b[0] = r.pick([1, 2, 3, 4, 5, 6, 7, 129, 130, r.int(0, 255)]);
      return b;
    } // wrong type for the layout
  }
}

function randomRecord(r: Rng): Uint8Array {
  const b = new Uint8Array(r.chance(0.1) ? r.int(0, 16) : r.int(17, 400));
  for (let i = 0; i < b.length; i++) b[i] = r.int(0, 255);
  if (b.length > 0 && r.chance(0.8)) b[0] = r.pick([1, 3, 4, 5, 7]);
  if (b.length > 14 && r.chance(0.5)) b[14] = r.int(0, 3);
  return b;
}

const total = (s: DecodeStats) => s.decoded + s.truncated + s.unknownType + s.unknownVersion + s.badLength + s.badPacket + s.skipped;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test(`decoder fuzz: ${RECORDS.toLocaleString('en')} random and mutated records, nothing thrown, every record counted once`, () => {
  const r = new Rng(SEED);
  const base = corpus();
  const decoders = [
    new MonitorDecoder({ nodeName: 'fuzz', uuid: () => 'u' }),
    new MonitorDecoder({
      nodeName: 'fuzz',
      uuid: () => 'u',
      l7Dns: true,
      dnsPairing: { maxEntries: 64, timeoutMs: 1 },
      localEndpointId: (ip) => (ip.endsWith('.5') ? 7 : 0),
      cgroupIp: () => '10.244.1.5',
      ifName: () => 'eth0',
    }),
  ];
  const rec: RawRecord = { data: new Uint8Array(0), cpu: 0, timeNs: 1.7e18 };
  let fed = 0,
    flows = 0,
    l7 = 0;
  for (let i = 0; i < RECORDS; i++) {
    const kind = r.next();
    const data = kind < 0.1 ? base[r.int(0, base.length - 1)] : kind < 0.75 ? mutate(r, base[r.int(0, base.length - 1)]) : randomRecord(r);
    const d = decoders[i & 1];
    rec.data = data;
    rec.timeNs += 1000;
    const before = total(d.stats);
    const decodedBefore = d.stats.decoded;
    let f;
    try {
      f = d.decode(rec);
      if (f !== null) JSON.stringify(f);
      for (const x of d.l7Flows) JSON.stringify(x);
    } catch (err) {
      assert.fail(`seed ${SEED}, record ${i} (${hex(data)}): decode threw ${(err as Error).stack}`);
    }
    fed++;
    if (total(d.stats) !== before + 1 || (f !== null) !== (d.stats.decoded === decodedBefore + 1)) {
      assert.fail(`seed ${SEED}, record ${i} (${hex(data)}): counted ${total(d.stats) - before} times, flow ${f !== null}`);
    }
    if (f !== null) flows++;
    l7 += d.l7Flows.length;
  }
  const sum = total(decoders[0].stats) + total(decoders[1].stats);
  assert.equal(sum, fed, `seed ${SEED}`);
  // The mix exercises every outcome (a fuzzer that only hits one path proves little).
  for (const k of ['decoded', 'truncated', 'unknownType', 'unknownVersion', 'badLength', 'badPacket', 'skipped'] as const) {
    assert.ok(decoders[0].stats[k] + decoders[1].stats[k] > 0, `seed ${SEED}: no record counted as ${k}`);
  }
  assert.ok(flows > RECORDS / 10, `seed ${SEED}: only ${flows} flows`);
  assert.ok(l7 > 0 && decoders[1].dnsStats.malformed > 0, `seed ${SEED}: DNS paths not reached`);
});
