import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsNameEnricher } from './dns-names.js';
import { ChainedEnricher } from './enricher.js';
import { StaticInventoryEnricher } from './static.js';
import { MonitorDecoder } from '../decode/decoder.js';
import { encodeTrace } from '../records/monitor.js';
import { frame } from '../records/frame.js';
import { SYN } from '../records/packet.js';
import { dnsMessage } from '../records/dns.js';
import type { Flow } from '../../proto/types.js';

const CLIENT = '10.244.1.5',
  DNS = '10.96.0.10',
  GITHUB = '140.82.121.4';
const T = 1_700_000_000;

test('names learnt per client and address, kept max(TTL, min TTL), bounded', () => {
  const c = new DnsNameEnricher({ minTtlSec: 60, maxEntries: 3 });
  c.learn(CLIENT, 'github.com.', [GITHUB, '140.82.121.3'], 30, T);
  c.learn(CLIENT, 'api.github.com.', [GITHUB], 300, T);
  assert.deepEqual(c.namesOf(CLIENT, GITHUB, T + 10), ['api.github.com', 'github.com']);
  assert.equal(c.namesOf('10.244.9.9', GITHUB, T), undefined, 'another client did not resolve it');
  assert.deepEqual(c.namesOf(CLIENT, '140.82.121.3', T + 59), ['github.com']);
  assert.equal(c.namesOf(CLIENT, '140.82.121.3', T + 60), undefined, 'expired after the minimum TTL');
  assert.deepEqual(c.namesOf(CLIENT, GITHUB, T + 299), ['api.github.com', 'github.com']);
  c.learn('10.244.1.6', 'a.example.', ['1.1.1.1', '1.1.1.2', '1.1.1.3'], 30, T);
  assert.equal(c.size, 3);
  assert.equal(c.evicted, 1);
  assert.equal(c.namesOf(CLIENT, GITHUB, T), undefined, 'the oldest entry went first');
});

test('DNS response flows teach names; later flows of that client get destination_names, replies source_names', () => {
  const dec = new MonitorDecoder({ nodeName: 'n1', l7Dns: true, uuid: () => 'u' });
  const names = new DnsNameEnricher();
  const inventory = new StaticInventoryEnricher({
    cluster: 'c1',
    nodes: [{ name: 'n1', ips: ['172.18.0.2'] }],
    endpoints: [],
    services: [],
    external: [{ ip: '1.1.1.1', names: ['one.one.one.one'] }],
  });
  const e = new ChainedEnricher([inventory, names]);
  const all: Flow[] = [];
  const feed = (data: Uint8Array, sec: number) => {
    const f = dec.decode({ data, cpu: 0, timeNs: 0, timeSeconds: sec, timeNanos: 0 } as never)!;
    for (const x of [f, ...dec.l7Flows]) {
      e.enrich(x);
      all.push(x);
    }
  };
  const resp = dnsMessage({
    id: 9,
    response: true,
    name: 'github.com',
    qtype: 'A',
    answers: [
      { name: 'github.com', type: 'A', ttl: 60, data: GITHUB },
      { name: 'github.com', type: 'A', ttl: 60, data: '1.1.1.1' },
    ],
  });
  feed(encodeTrace({ obsPoint: 0, reason: 2, capLen: 512 }, frame({ src: DNS, dst: CLIENT, udp: { sport: 53, dport: 40001, payload: resp } })), T);
  feed(encodeTrace({ obsPoint: 5, reason: 0 }, frame({ src: CLIENT, dst: GITHUB, tcp: { sport: 40100, dport: 443, flags: SYN } })), T + 1);
  feed(encodeTrace({ obsPoint: 0, reason: 2 }, frame({ src: GITHUB, dst: CLIENT, tcp: { sport: 443, dport: 40100, flags: SYN } })), T + 1);
  feed(encodeTrace({ obsPoint: 5, reason: 0 }, frame({ src: CLIENT, dst: '1.1.1.1', tcp: { sport: 40101, dport: 443, flags: SYN } })), T + 1);
  const syn = all.find((f) => f.IP?.destination === GITHUB)!;
  assert.deepEqual(syn.destination_names, ['github.com']);
  assert.equal(syn.source_names, undefined);
  const reply = all.find((f) => f.IP?.source === GITHUB)!;
  assert.deepEqual(reply.source_names, ['github.com']);
  // The inventory's own names come first and are kept.
  assert.deepEqual(all.find((f) => f.IP?.destination === '1.1.1.1')!.destination_names, ['one.one.one.one']);
});
