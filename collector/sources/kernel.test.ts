// Real-kernel acceptance test of `--source kernel` (with the CLI's ring defaults: 256 pages,
// 32 KiB wake-up watermark, so quiet rings are drained by the timer): traffic between two private network
// namespaces, observed by the probe, decoded into Hubble flows. Needs root, the built probe,
// iproute2, nftables and dnsmasq; under CI=true a missing piece fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Flow } from '../../proto/types.js';
import { Verdict, TrafficDirection } from '../../proto/types.js';
import { kernelInfoOf } from '../../proto/kernel.js';
import { toProtoJSON } from '../../proto/json.js';
import { types } from '../../proto/index.js';
import type { RawRecord } from '../source.js';
import { createSource } from './registry.js';
import { kernelUnavailable } from './kernel-env.js';
import { createLab, firstLine, toolMissing, type Lab } from '../../testing/netns-lab.js';

const CI = process.env.CI === 'true';
const missing = kernelUnavailable() ?? toolMissing(['ip', 'nft', 'dnsmasq']);

async function waitFor<T>(what: string, seen: () => Flow[], pick: (flows: Flow[]) => T | undefined, limitMs = 8000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const found = pick(seen());
    if (found !== undefined) return found;
    if (Date.now() > deadline) {
      const mine = seen().map((f) => JSON.stringify(toProtoJSON(types.Flow, f as Record<string, unknown>)));
      assert.fail(`no ${what} among ${mine.length} lab flows:\n${mine.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const tcp = (f: Flow) => f.l4?.TCP;
const udp = (f: Flow) => f.l4?.UDP;

test(
  'kernel source: drops with kernel reasons, TCP and UDP flows, DNS, between two namespaces',
  { skip: !CI && missing ? `kernel source unavailable: ${missing}` : false, timeout: 120_000 },
  async (t) => {
    if (missing) assert.fail(`kernel source unavailable under CI: ${missing}`);
    const built = await createSource(
      { kind: 'kernel', pages: 256, wakeupBytes: 32768, aggregateSeconds: 5, includeUnspecified: false, dns: true },
      { nodeName: 'lab-node', version: 'test' },
    );
    let lab: Lab | null = null;
    const flows: Flow[] = [];
    let lost = 0;
    try {
      lab = createLab();
      const L = lab;
      const inLab = (f: Flow) => f.IP !== undefined && [L.ipA, L.ipB].includes(f.IP.source!) && [L.ipA, L.ipB].includes(f.IP.destination!);
      await built.source.start({
        records(batch: RawRecord[]) {
          for (const r of batch) {
            const f = built.decoder.decode(r);
            if (f !== null && inLab(f)) flows.push(f);
          }
        },
        lost(_cpu, n) {
          lost += n;
        },
      });
      const seen = () => flows;
      const node = (script: string) => ['node', '-e', script];

      await t.test('TCP connect to a closed port → drop NO_SOCKET with the 5-tuple', async () => {
        L.exec(
          L.nsA,
          node(
            `const s=require('net').connect({host:'${L.ipB}',port:9,localAddress:'${L.ipA}',localPort:40001});s.on('error',()=>process.exit(0));s.on('connect',()=>process.exit(1));`,
          ),
        );
        const f = await waitFor('NO_SOCKET drop', seen, (fs) =>
          fs.find((x) => x.verdict === Verdict.DROPPED && tcp(x)?.destination_port === 9 && tcp(x)?.source_port === 40001),
        );
        assert.equal(f.IP!.source, L.ipA);
        assert.equal(f.IP!.destination, L.ipB);
        assert.equal(f.IP!.ipVersion, 1);
        assert.equal(tcp(f)!.flags?.SYN, true);
        const k = kernelInfoOf(f)!;
        assert.equal(k.drop_reason_name, 'NO_SOCKET');
        assert.equal(k.event, 'drop');
        assert.equal(k.packets, 1);
        assert.ok(k.drop_reason_code! > 0);
        assert.equal(f.drop_reason_desc, 178); // SOCKET_LOOKUP_FAILED, the nearest Hubble reason
        assert.deepEqual(f.event_type, { type: 1, sub_type: 178 });
        assert.equal(f.node_name, 'lab-node');
      });

      await t.test('nftables DROP rule → drop NETFILTER_DROP (Hubble POLICY_DENIED)', async () => {
        L.exec(
          L.nsB,
          ['nft', '-f', '-'],
          'table inet fstest {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport 9100 drop\n }\n}\n',
        );
        L.exec(
          L.nsA,
          node(
            `const s=require('net').connect({host:'${L.ipB}',port:9100,localAddress:'${L.ipA}',localPort:40002});s.on('error',()=>{});setTimeout(()=>process.exit(0),300);`,
          ),
        );
        const f = await waitFor('NETFILTER_DROP drop', seen, (fs) => fs.find((x) => x.verdict === Verdict.DROPPED && tcp(x)?.destination_port === 9100));
        assert.equal(kernelInfoOf(f)!.drop_reason_name, 'NETFILTER_DROP');
        assert.equal(f.drop_reason_desc, 133);
        assert.equal(f.IP!.source, L.ipA);
        assert.equal(tcp(f)!.source_port, 40002);
      });

      await t.test('established TCP exchange → open and close flows on both ends', async () => {
        const server = L.spawn(
          L.nsB,
          node(`require('net').createServer(c=>c.on('data',d=>c.end('pong:'+d))).listen(8080,'${L.ipB}',()=>console.log('listening'));`),
        );
        assert.equal(await firstLine(server), 'listening');
        L.exec(
          L.nsA,
          node(
            `const s=require('net').connect({host:'${L.ipB}',port:8080,localAddress:'${L.ipA}',localPort:40003},()=>s.write('ping'));s.on('data',()=>{});s.on('end',()=>s.end());s.on('close',()=>process.exit(0));`,
          ),
        );
        const conn = (x: Flow) => tcp(x)?.source_port === 40003 && tcp(x)?.destination_port === 8080 && x.IP!.source === L.ipA && x.IP!.destination === L.ipB;
        const byEvent = (ev: string, dir: number) => (fs: Flow[]) => fs.find((x) => conn(x) && kernelInfoOf(x)?.event === ev && x.traffic_direction === dir);
        const openOut = await waitFor('client tcp_open', seen, byEvent('tcp_open', TrafficDirection.EGRESS));
        const openIn = await waitFor('server tcp_open', seen, byEvent('tcp_open', TrafficDirection.INGRESS));
        const closeOut = await waitFor('client tcp_close', seen, byEvent('tcp_close', TrafficDirection.EGRESS));
        const closeIn = await waitFor('server tcp_close', seen, byEvent('tcp_close', TrafficDirection.INGRESS));
        for (const f of [openOut, openIn]) {
          assert.equal(f.verdict, Verdict.FORWARDED);
          assert.deepEqual(tcp(f)!.flags, { SYN: true });
          assert.equal(kernelInfoOf(f)!.tcp_new_state, 'ESTABLISHED');
        }
        assert.equal(kernelInfoOf(openOut)!.tcp_old_state, 'SYN_SENT');
        assert.equal(kernelInfoOf(openIn)!.tcp_old_state, 'SYN_RECV');
        assert.equal(openOut.trace_observation_point, 8); // FROM_STACK
        assert.equal(openIn.trace_observation_point, 3); // TO_STACK
        for (const f of [closeOut, closeIn]) {
          assert.deepEqual(tcp(f)!.flags, { FIN: true, ACK: true });
          const k = kernelInfoOf(f)!;
          assert.equal(k.tcp_new_state, 'CLOSE');
          // "ping" one way, "pong:ping" the other; the kernel's counters follow sequence space, so
          // SYN and FIN add up to one each per direction.
          assert.ok(k.bytes! >= 13 && k.bytes! <= 17, `bytes ${k.bytes}`);
          assert.ok(k.packets! >= 4, `packets ${k.packets}`);
        }
        server.kill();
      });

      await t.test('UDP datagrams → one aggregated flow per direction', async () => {
        const rx = L.spawn(L.nsB, node(`const s=require('dgram').createSocket('udp4');s.bind(7777,'${L.ipB}',()=>console.log('bound'));`));
        assert.equal(await firstLine(rx), 'bound');
        L.exec(
          L.nsA,
          node(
            `const s=require('dgram').createSocket('udp4');s.bind(40004,'${L.ipA}',async()=>{for(let i=0;i<3;i++)await new Promise(r=>s.send('x'.repeat(100),7777,'${L.ipB}',r));s.close();});`,
          ),
        );
        const out = await waitFor('UDP egress flow', seen, (fs) =>
          fs.find((x) => udp(x)?.source_port === 40004 && udp(x)?.destination_port === 7777 && x.traffic_direction === TrafficDirection.EGRESS),
        );
        const inn = await waitFor('UDP ingress flow', seen, (fs) =>
          fs.find((x) => udp(x)?.source_port === 40004 && x.traffic_direction === TrafficDirection.INGRESS),
        );
        for (const f of [out, inn]) {
          const k = kernelInfoOf(f)!;
          assert.equal(k.event, 'udp');
          assert.equal(k.packets, 1); // the first packet is reported at once; the rest wait for the 5 s interval
          assert.equal(k.bytes, 128); // 20 IP + 8 UDP + 100 payload
          assert.equal(f.IP!.source, L.ipA);
        }
        // Aggregation: three datagrams, but within the interval only the first was reported per direction.
        assert.equal(flows.filter((x) => udp(x)?.source_port === 40004 && x.traffic_direction === TrafficDirection.EGRESS).length, 1);
        rx.kill();
      });

      await t.test('DNS through dnsmasq → queries and responses with names and rcodes', async () => {
        const dns = L.spawn(L.nsB, [
          'dnsmasq',
          '-k',
          '--no-resolv',
          '--no-hosts',
          '--bind-interfaces',
          `--listen-address=${L.ipB}`,
          '--port=53',
          '--address=/known.fstest/10.200.250.1',
          '--local=/fstest/',
          '--pid-file',
          '--log-facility=-',
          '--user=root',
        ]);
        void dns;
        const out = L.exec(
          L.nsA,
          node(`const r=new (require('dns').promises.Resolver)({timeout:500,tries:10});r.setServers(['${L.ipB}']);
        (async()=>{const a=await r.resolve4('known.fstest');let nx='';try{await r.resolve4('missing.fstest')}catch(e){nx=e.code}console.log(JSON.stringify({a,nx}))})().catch(e=>{console.log(JSON.stringify({err:e.code}));});`),
        );
        assert.deepEqual(JSON.parse(out), { a: ['10.200.250.1'], nx: 'ENOTFOUND' });
        const known = await waitFor('DNS response for known.fstest', seen, (fs) =>
          fs.find((x) => x.l7?.dns?.query === 'known.fstest.' && x.l7.type === 2 && x.traffic_direction === TrafficDirection.EGRESS),
        );
        assert.deepEqual(known.l7!.dns!.ips, ['10.200.250.1']);
        assert.equal(udp(known)!.source_port, 53);
        const query = await waitFor('DNS query for known.fstest', seen, (fs) => fs.find((x) => x.l7?.dns?.query === 'known.fstest.' && x.l7.type === 1));
        assert.equal(udp(query)!.destination_port, 53);
        const nx = await waitFor('NXDOMAIN response', seen, (fs) => fs.find((x) => x.l7?.dns?.query === 'missing.fstest.' && x.l7.type === 2));
        assert.equal(nx.l7!.dns!.rcode, 3);
      });

      assert.equal(lost, 0, 'no perf ring loss at this rate');
    } finally {
      await built.source.stop();
      lab?.destroy();
    }
  },
);
