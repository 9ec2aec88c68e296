import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MonitorDecoder, type ExactTimeRecord } from './decoder.js';
import { dnsSummary, parseDNSMessage, parseTcpDNS } from './dns.js';
import { DnsPairingTable, DUPLICATE, newDnsStats, UNPAIRED } from './dns-pairing.js';
import { encodeDrop, encodeTrace } from '../records/monitor.js';
import { frame } from '../records/frame.js';
import { ACK, PSH } from '../records/packet.js';
import { dnsMessage } from '../records/dns.js';
import { compileFlowFilters } from '../../filters/index.js';
import { formatResponses } from '../../api/printer/index.js';
import type { Flow } from '../../proto/types.js';

const T0 = 1_700_000_000_000_000_000;
const FROM_ENDPOINT = 5,
  TO_ENDPOINT = 0,
  TO_STACK = 3;
const CLIENT = '10.244.1.5',
  VIP = '10.96.0.10';
const dec = (extra: Partial<ConstructorParameters<typeof MonitorDecoder>[0]> = {}) =>
  new MonitorDecoder({ nodeName: 'node-1', emitterVersion: '1.0.0', uuid: () => 'u', l7Dns: true, ...extra });

const query = (id: number, name = 'api.shop.svc.cluster.local', qtype = 'A') => dnsMessage({ id, response: false, name, qtype });
const answer = (id: number, name = 'api.shop.svc.cluster.local', ips = ['10.96.4.2']) =>
  dnsMessage({ id, response: true, name, qtype: 'A', answers: ips.map((data) => ({ name, type: 'A' as const, ttl: 30, data })) });

function udpRecord(obs: number, fromClient: boolean, payload: Uint8Array, sport = 40001): Uint8Array {
  const pkt = fromClient
    ? frame({ src: CLIENT, dst: VIP, udp: { sport, dport: 53, payload } })
    : frame({ src: VIP, dst: CLIENT, udp: { sport: 53, dport: sport, payload } });
  return encodeTrace({ obsPoint: obs, reason: fromClient ? 0 : 2, capLen: 1500, source: 1234, ...(fromClient ? { srcLabel: 5001 } : { dstLabel: 5001 }) }, pkt);
}

// Records with exact times (seconds + nanos): a float64 of epoch nanoseconds only resolves 256 ns.
function run(d: MonitorDecoder, data: Uint8Array, off: number): { flow: Flow | null; l7: Flow[] } {
  const flow = d.decode({ data, cpu: 0, timeNs: T0 + off, timeSeconds: T0 / 1e9 + Math.floor(off / 1e9), timeNanos: off % 1e9 } as ExactTimeRecord);
  return { flow, l7: [...d.l7Flows] };
}

test('UDP query and response → Hubble L7 DNS flows beside the unchanged L3/L4 flows; latency on the response', () => {
  const d = dec();
  const q = run(d, udpRecord(FROM_ENDPOINT, true, query(7)), 0);
  assert.equal(q.flow!.Type, 1);
  assert.equal(q.flow!.l7, undefined);
  assert.equal(q.flow!.Summary, 'UDP');
  assert.equal(q.l7.length, 1);
  const req = q.l7[0];
  assert.deepEqual(
    { ...req, time: undefined },
    {
      time: undefined,
      verdict: 1,
      IP: { source: CLIENT, destination: VIP, ipVersion: 1 },
      l4: { UDP: { source_port: 40001, destination_port: 53 } },
      source: { identity: 5001 },
      destination: {},
      Type: 2,
      event_type: { type: 129 },
      traffic_direction: 2,
      is_reply: { value: false },
      l7: { type: 1, dns: { query: 'api.shop.svc.cluster.local.', qtypes: ['A'], observation_source: 'datapath' } },
      Summary: 'DNS Query api.shop.svc.cluster.local. A',
      uuid: 'u',
      emitter: { name: 'flowscope', version: '1.0.0' },
      node_name: 'node-1',
    },
  );
  assert.deepEqual(req.time, q.flow!.time);
  // Another capture point of the same query (to-stack) and the query arriving at the server: no L7.
  assert.equal(run(d, udpRecord(TO_STACK, true, query(7)), 1000).l7.length, 0);
  assert.equal(run(d, udpRecord(TO_ENDPOINT, true, query(7)), 2000).l7.length, 0);
  // The same query again while pending (retransmission seen twice) is a duplicate.
  assert.equal(run(d, udpRecord(FROM_ENDPOINT, true, query(7)), 3000).l7.length, 0);
  const r = run(d, udpRecord(TO_ENDPOINT, false, answer(7)), 5_000_000);
  assert.equal(r.l7.length, 1);
  const resp = r.l7[0];
  assert.equal(resp.l7!.type, 2);
  assert.equal(resp.l7!.latency_ns, 5_000_000);
  assert.deepEqual(resp.l7!.dns, {
    query: 'api.shop.svc.cluster.local.',
    ips: ['10.96.4.2'],
    ttl: 30,
    qtypes: ['A'],
    rrtypes: ['A'],
    observation_source: 'datapath',
  });
  assert.deepEqual(resp.is_reply, { value: true });
  assert.equal(resp.reply, true);
  assert.equal(resp.IP!.source, VIP);
  assert.equal(resp.Summary, 'DNS Answer "10.96.4.2" TTL: 30 (Query api.shop.svc.cluster.local. A)');
  // The response seen again is reported once.
  assert.equal(run(d, udpRecord(TO_ENDPOINT, false, answer(7)), 6_000_000).l7.length, 0);
  // A response with no query: no latency.
  const u = run(d, udpRecord(TO_ENDPOINT, false, answer(8)), 7_000_000).l7[0];
  assert.equal(u.l7!.latency_ns, undefined);
  assert.deepEqual(d.dnsStats, { queries: 1, responses: 2, paired: 1, unpaired: 1, duplicates: 2, evicted: 0, expired: 0, malformed: 0, partial: 0 });
  // Dropped DNS packets only give their drop flow.
  const dropped = d.decode({
    data: encodeDrop({ reason: 133 }, frame({ src: CLIENT, dst: VIP, udp: { sport: 40009, dport: 53, payload: query(9) } })),
    cpu: 0,
    timeNs: T0,
  });
  assert.equal(dropped!.verdict, 2);
  assert.equal(d.l7Flows.length, 0);
});

test('--type l7 matches the DNS records only, and the printer renders them like hubble', () => {
  const d = dec();
  const q = run(d, udpRecord(FROM_ENDPOINT, true, query(7)), 0);
  const r = run(d, udpRecord(TO_ENDPOINT, false, dnsMessage({ id: 7, response: true, name: 'nope.example.', qtype: 'AAAA', rcode: 3 })), 1_500_000);
  const l7 = compileFlowFilters([{ event_type: [{ type: 129 }] }], []);
  assert.equal(l7(q.flow!), false);
  assert.equal(l7(q.l7[0]), true);
  assert.equal(l7(r.l7[0]), true);
  const out = formatResponses(
    [q.l7[0], r.l7[0]].map((flow) => ({ flow, node_name: flow.node_name, time: flow.time })),
    { output: 'compact', timeZone: 'UTC' },
  ).stdout.split('\n');
  assert.match(
    out[0],
    /^Nov 14 22:13:20\.000: 10\.244\.1\.5:40001 \(ID:5001\) -> 10\.96\.0\.10:53 \(unknown\) dns-request datapath FORWARDED \(DNS Query api\.shop\.svc\.cluster\.local\. A\)$/,
  );
  assert.match(
    out[1],
    /: 10\.244\.1\.5:40001 \(ID:5001\) <- 10\.96\.0\.10:53 \(unknown\) dns-response datapath FORWARDED \(DNS Answer RCode: Non-Existent Domain TTL: 0 \(Query nope\.example\. AAAA\)\)$/,
  );
});

function tcpRecord(obs: number, fromClient: boolean, stream: Uint8Array): Uint8Array {
  const pkt = fromClient
    ? frame({ src: CLIENT, dst: VIP, tcp: { sport: 40100, dport: 53, flags: ACK | PSH, payload: stream } })
    : frame({ src: VIP, dst: CLIENT, tcp: { sport: 53, dport: 40100, flags: ACK | PSH, payload: stream } });
  return encodeTrace({ obsPoint: obs, reason: 0, capLen: 4000 }, pkt);
}
const framed = (...msgs: Uint8Array[]) => Uint8Array.from(msgs.flatMap((m) => [m.length >> 8, m.length & 0xff, ...m]));

test('DNS over TCP: several messages per segment, partial segments skipped and counted', () => {
  const d = dec();
  const q = run(d, tcpRecord(FROM_ENDPOINT, true, framed(query(1, 'a.example'), query(2, 'b.example', 'AAAA'))), 0);
  assert.equal(q.flow!.Summary, 'TCP Flags: ACK, PSH');
  assert.deepEqual(
    q.l7.map((f) => f.Summary),
    ['DNS Query a.example. A', 'DNS Query b.example. AAAA'],
  );
  const r = run(d, tcpRecord(TO_ENDPOINT, false, framed(answer(2, 'b.example', ['10.0.0.2']), answer(1, 'a.example', ['10.0.0.1']))), 2_000_000);
  assert.deepEqual(
    r.l7.map((f) => [f.l7!.dns!.query, f.l7!.latency_ns]),
    [
      ['b.example.', 2_000_000],
      ['a.example.', 2_000_000],
    ],
  );
  // First message complete, the second cut by the segment end: one flow, one partial.
  const whole = framed(query(3, 'c.example'), query(4, 'd.example'));
  const cut = run(d, tcpRecord(FROM_ENDPOINT, true, whole.subarray(0, whole.length - 5)), 3_000_000);
  assert.deepEqual(
    cut.l7.map((f) => f.l7!.dns!.query),
    ['c.example.'],
  );
  // Only a length prefix, or one byte of it.
  assert.equal(run(d, tcpRecord(FROM_ENDPOINT, true, Uint8Array.of(0, 40)), 0).l7.length, 0);
  assert.equal(run(d, tcpRecord(FROM_ENDPOINT, true, Uint8Array.of(0)), 0).l7.length, 0);
  assert.equal(d.dnsStats.partial, 3);
  // A segment starting mid-message is not guessed at.
  const mid = run(d, tcpRecord(FROM_ENDPOINT, true, query(5, 'e.example').subarray(3)), 0);
  assert.ok(mid.flow);
  assert.equal(mid.l7.length, 0);
  assert.ok(d.dnsStats.malformed + d.dnsStats.partial >= 4);
});

test('responses: CNAME chains through compression pointers, AAAA, smallest TTL, rcode', () => {
  // Hand-built response: www.example.com CNAME edge.example.net (pointer to the question name),
  // edge.example.net A 1.2.3.4 (ttl 20), AAAA 2001:db8::1 (ttl 300).
  const b: number[] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 0];
  const qname = 12;
  b.push(3, ...Buffer.from('www'), 7, ...Buffer.from('example'), 3, ...Buffer.from('com'), 0, 0, 1, 0, 1);
  const cnameTarget = b.length + 12; // rdata offset of the first answer
  b.push(0xc0, qname, 0, 5, 0, 1, 0, 0, 0, 60, 0, 18, 4, ...Buffer.from('edge'), 7, ...Buffer.from('example'), 3, ...Buffer.from('net'), 0);
  b.push(0xc0, cnameTarget, 0, 1, 0, 1, 0, 0, 0, 20, 0, 4, 1, 2, 3, 4);
  b.push(0xc0, cnameTarget, 0, 28, 0, 1, 0, 0, 1, 44, 0, 16, 0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1);
  const m = parseDNSMessage(Uint8Array.from(b), 0, b.length)!;
  assert.equal(m.id, 0x1234);
  assert.equal(m.response, true);
  assert.deepEqual(m.dns, {
    query: 'www.example.com.',
    ips: ['1.2.3.4', '2001:db8::1'],
    ttl: 20,
    cnames: ['edge.example.net.'],
    qtypes: ['A'],
    rrtypes: ['CNAME', 'A', 'AAAA'],
  });
  assert.equal(dnsSummary(true, m.dns), 'DNS Answer "1.2.3.4,2001:db8::1" CNAMEs: "edge.example.net." TTL: 20 (Query www.example.com. A)');
  assert.equal(dnsSummary(true, { ...m.dns, observation_source: 'proxy' }).endsWith('(Proxy www.example.com. A)'), true);
  assert.equal(dnsSummary(true, { query: 'x.', rcode: 2, qtypes: ['A'] }), 'DNS Answer RCode: Server Failure TTL: 0 (Query x. A)');
  // Type names as gopacket prints them (Hubble's qtypes).
  assert.deepEqual(parseDNSMessage(query(1, 'x', '257'), 0, 100)!.dns.qtypes, ['Unknown']);
  assert.deepEqual(parseDNSMessage(query(1, 'x', 'SRV'), 0, 100)!.dns.qtypes, ['SRV']);
});

test('malformed DNS never throws: pointer loops, truncation, bogus counts, wild lengths', () => {
  const loop = Uint8Array.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  assert.equal(parseDNSMessage(loop, 0, loop.length), null);
  const pingPong = Uint8Array.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0xc0, 12, 0, 1, 0, 1]);
  assert.equal(parseDNSMessage(pingPong, 0, pingPong.length), null);
  const far = Uint8Array.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 1, 0, 1]);
  assert.equal(parseDNSMessage(far, 0, far.length), null);
  const bogus = query(1);
  bogus[5] = 200;
  bogus[7] = 200;
  assert.equal(parseDNSMessage(bogus, 0, bogus.length), null);
  const good = answer(3);
  for (let n = 0; n < good.length; n++) assert.equal(parseDNSMessage(good, 0, n), null, `cut at ${n}`);
  assert.equal(parseDNSMessage(good, 0, good.length + 50)!.dns.ips![0], '10.96.4.2'); // end past the buffer is clamped
  assert.deepEqual(parseTcpDNS(Uint8Array.of(0xff, 0xff, 1, 2), 0, 4), { messages: [], malformed: 0, partial: 1 });
  // Through the decoder: the L3/L4 flow survives, the DNS is counted malformed.
  const d = dec();
  const r = run(d, udpRecord(FROM_ENDPOINT, true, loop), 0);
  assert.equal(r.flow!.Summary, 'UDP');
  assert.equal(r.l7.length, 0);
  assert.equal(d.dnsStats.malformed, 1);
});

test('pairing table: bounded size and time, evictions and expiries counted', () => {
  const stats = newDnsStats();
  const t = new DnsPairingTable({ maxEntries: 2, timeoutMs: 1000 }, stats);
  assert.equal(t.query('a', 0), true);
  assert.equal(t.query('b', 1), true);
  assert.equal(t.query('c', 2), true); // evicts a
  assert.equal(stats.evicted, 1);
  assert.equal(t.size, 2);
  assert.equal(t.response('a', 3), UNPAIRED);
  assert.equal(stats.evicted, 2); // a's marker pushed b out
  assert.equal(t.response('c', 10), 8);
  assert.equal(t.response('c', 11), DUPLICATE);
  assert.equal(t.query('d', 2_000_000_000), true); // everything older than 1 s is gone
  assert.equal(stats.expired, 0); // what was left was answered
  assert.equal(t.size, 1);
  assert.equal(t.query('e', 2_000_000_001), true);
  assert.equal(t.response('x', 4_000_000_000), UNPAIRED);
  assert.equal(stats.expired, 2);
  assert.throws(() => new DnsPairingTable({ maxEntries: 0, timeoutMs: 1 }, stats), /size/);
  assert.throws(() => new DnsPairingTable({ maxEntries: 1, timeoutMs: 0 }, stats), /timeout/);
});
