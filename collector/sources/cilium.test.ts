// Real-kernel test of `--source cilium:PATH`: a BPF program (collector/bpf/emit.bpf.c, run with
// BPF_PROG_TEST_RUN) writes byte-exact Cilium monitor records into a perf event array pinned
// under /sys/fs/bpf, exactly as Cilium's ctx_event_output does; the source reads the pinned map
// and the decoder must produce what it produces for the same bytes offline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Flow } from '../../proto/types.js';
import type { RawRecord } from '../source.js';
import { MonitorDecoder } from '../decode/decoder.js';
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
import { ETH_IPV4, ethernet, geneve, ipv4, PROTO_UDP, udp, vxlan, SYN, ACK } from '../records/packet.js';
import { bpfObject, loadPerfNative } from '../perf/native.js';
import { createSource } from './registry.js';
import { ciliumUnavailable } from './kernel-env.js';

const CI = process.env.CI === 'true';

function unavailable(): string | null {
  const n = loadPerfNative();
  if (!n.ok) return n.reason;
  const e = bpfObject('emit');
  if (!e.ok) return e.reason;
  // The map does not exist yet; check privilege and bpffs with its directory.
  return ciliumUnavailable('/sys/fs/bpf');
}
const missing = unavailable();

const tcpFrame = frame({ src: '10.244.1.5', dst: '10.244.2.9', tcp: { sport: 43210, dport: 8080, flags: SYN } });
const tcp6Ext = frame({
  src: 'fd00::5',
  dst: 'fd00::9',
  tcp: { sport: 40000, dport: 443, flags: SYN | ACK },
  ipv6Ext: [{ type: 0 }, { type: 60 }],
  l3Only: true,
});
const sctpFrame = frame({ src: '10.244.1.5', dst: '10.244.2.9', sctp: { sport: 5000, dport: 6000 } });
const inner = frame({ src: '10.244.1.5', dst: '10.244.2.9', udp: { sport: 5353, dport: 53, payload: new Uint8Array(12) } });
const outer = (payload: Uint8Array, dport: number) =>
  ethernet(
    '02:00:00:00:00:01',
    '02:00:00:00:00:02',
    ETH_IPV4,
    ipv4({ src: '192.168.50.1', dst: '192.168.50.2', proto: PROTO_UDP }, udp(40000, dport, payload)),
  );

// Each case: the record as Cilium writes it (perf-padded, as it comes out of the ring) and a check
// of the decoded flow beyond equality with the offline decode.
const CASES: Array<{ name: string; rec: Uint8Array; check: (f: Flow) => void }> = [
  ...([0, 1, 2, 3] as const).map((version) => ({
    name: `DropNotify v${version}`,
    rec: encodeDrop(
      {
        version,
        reason: 133,
        srcLabel: 1234,
        dstLabel: 5678,
        source: 77,
        file: 2,
        line: 1500,
        ifindex: 9,
        ipTraceId: version === 3 ? 42 : undefined,
        perfPad: true,
      },
      tcpFrame,
    ),
    check: (f: Flow) => {
      assert.equal(f.verdict, 2);
      assert.equal(f.drop_reason_desc, 133);
      assert.equal(f.IP?.source, '10.244.1.5');
      assert.equal(f.l4?.TCP?.destination_port, 8080);
      assert.equal(f.source?.identity, 1234);
      if (version === 3) assert.equal(f.ip_trace_id?.trace_id, 42);
    },
  })),
  ...([0, 1, 2] as const).map((version) => ({
    name: `TraceNotify v${version}`,
    rec: encodeTrace(
      {
        version,
        obsPoint: 5,
        reason: 0x80 | 1,
        srcLabel: 11,
        dstLabel: 22,
        ifindex: 4,
        origIp: version >= 1 ? '10.0.0.7' : undefined,
        ipTraceId: version === 2 ? 7 : undefined,
        perfPad: true,
      },
      tcpFrame,
    ),
    check: (f: Flow) => {
      assert.equal(f.verdict, 1);
      assert.equal(f.trace_observation_point, 5);
      assert.equal(f.IP?.encrypted, true, 'encrypt bit');
      if (version >= 1) {
        assert.equal(f.IP?.source, '10.0.0.7');
        assert.equal(f.IP?.source_xlated, '10.244.1.5');
      } else assert.equal(f.IP?.source, '10.244.1.5');
    },
  })),
  {
    name: 'PolicyVerdict (current layout) deny',
    rec: encodePolicyVerdict({ remoteLabel: 999, verdict: -133, dstPort: 8080, proto: 6, ingress: true, matchType: 2, perfPad: true }, tcpFrame),
    check: (f) => {
      assert.equal(f.verdict, 2);
      assert.equal(f.drop_reason_desc, 133);
      assert.equal(f.source?.identity, 999);
      assert.equal(f.policy_match_type, 2);
    },
  },
  {
    name: 'PolicyVerdict (old layout) allow',
    rec: encodePolicyVerdict({ layout: 'old', remoteLabel: 999, verdict: 0, ingress: false, perfPad: true }, tcpFrame),
    check: (f) => {
      assert.equal(f.verdict, 1);
      assert.equal(f.destination?.identity, 999);
    },
  },
  {
    name: 'DebugCapture',
    rec: encodeDebugCapture({ point: 4, arg1: 12, perfPad: true }, tcpFrame),
    check: (f) => {
      assert.equal(f.debug_capture_point, 4);
      assert.equal(f.interface?.index, 12);
    },
  },
  {
    name: 'TraceSock',
    rec: encodeTraceSock({ point: 2, dstIp: '10.96.0.10', dstPort: 53, cookie: 5, cgroupId: 6, proto: 2 }),
    check: (f) => {
      assert.equal(f.Type, 3);
      assert.equal(f.IP?.destination, '10.96.0.10');
      assert.equal(f.l4?.UDP?.destination_port, 53);
    },
  },
  {
    name: 'DropNotify v2 IPv6 with extension headers on an L3 device',
    rec: encodeDrop({ version: 2, reason: 181, flags: FLAG_IPV6 | FLAG_L3_DEVICE, perfPad: true }, tcp6Ext),
    check: (f) => {
      assert.equal(f.IP?.ipVersion, 2);
      assert.equal(f.l4?.TCP?.destination_port, 443);
      assert.deepEqual(f.l4?.TCP?.flags, { SYN: true, ACK: true });
    },
  },
  {
    name: 'TraceNotify with SCTP',
    rec: encodeTrace({ obsPoint: 3, perfPad: true }, sctpFrame),
    check: (f) => {
      assert.equal(f.l4?.SCTP?.source_port, 5000);
    },
  },
  {
    name: 'TraceNotify over VXLAN',
    rec: encodeTrace({ obsPoint: 9, flags: FLAG_VXLAN, capLen: 256, perfPad: true }, outer(vxlan(4242, inner), 8472)),
    check: (f) => {
      assert.equal(f.tunnel?.vni, 4242);
      assert.equal(f.IP?.source, '10.244.1.5');
      assert.equal(f.tunnel?.IP?.source, '192.168.50.1');
      assert.equal(f.l4?.UDP?.destination_port, 53);
    },
  },
  {
    name: 'DropNotify v3 over Geneve',
    rec: encodeDrop({ version: 3, reason: 133, flags: FLAG_GENEVE, capLen: 256, perfPad: true }, outer(geneve(77, inner), 6081)),
    check: (f) => {
      assert.equal(f.tunnel?.vni, 77);
      assert.equal(f.IP?.destination, '10.244.2.9');
    },
  },
];

test(
  'cilium source decodes byte-exact Cilium records written into a pinned perf event array by BPF',
  { skip: !CI && missing ? `cilium source test unavailable: ${missing}` : false, timeout: 60_000 },
  async (t) => {
    if (missing) assert.fail(`cilium source test unavailable under CI: ${missing}`);
    const n = loadPerfNative();
    const emitObj = bpfObject('emit');
    assert.ok(n.ok && emitObj.ok);
    const dir = `/sys/fs/bpf/flowscope-test-${randomBytes(4).toString('hex')}`;
    mkdirSync(dir);
    const pin = `${dir}/cilium_events`;
    const emitter = n.native.openObject(emitObj.path, { cilium_events: pin });
    const built = await createSource({ kind: 'cilium', path: pin, pages: 8, wakeupBytes: 0 }, { nodeName: 'cilium-node', version: 'test' });
    const got: RawRecord[] = [];
    let lost = 0;
    try {
      await built.source.start({
        records(b) {
          got.push(...b);
        },
        lost(_c, c) {
          lost += c;
        },
      });
      const offline = new MonitorDecoder({ nodeName: 'cilium-node', emitterVersion: 'test', uuid: () => 'u' });
      for (const c of CASES) {
        await t.test(c.name, async () => {
          const before = got.length;
          const r = n.native.testRun(emitter, 'emit_record', Buffer.from(c.rec), 1);
          assert.equal(r.retval, 0);
          const deadline = Date.now() + 5000;
          while (got.length === before && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
          assert.equal(got.length, before + 1, 'one sample per emitted record');
          const rec = got[got.length - 1];
          // The kernel pads each sample so that (4-byte size + data) is 8-byte aligned.
          const padded = Buffer.alloc(Math.ceil((c.rec.length + 4) / 8) * 8 - 4);
          padded.set(c.rec);
          assert.deepEqual(Buffer.from(rec.data), padded, 'the ring delivers the record byte for byte');
          assert.ok(rec.cpu >= 0);
          const live = built.decoder.decode(rec);
          assert.ok(live, `decoded (stats ${JSON.stringify(built.decoder.stats)})`);
          const ref = offline.decode({ data: c.rec, cpu: rec.cpu, timeNs: rec.timeNs })!;
          const strip = (f: Flow) => ({ ...f, uuid: undefined });
          assert.deepEqual(strip(live), strip(ref));
          assert.equal(live.node_name, 'cilium-node');
          c.check(live);
        });
      }
      await t.test('unknown types and versions are counted and skipped', async () => {
        const before = got.length;
        const badVersion = encodeDrop({ reason: 133, perfPad: true }, tcpFrame);
        badVersion[14] = 9;
        const badType = Uint8Array.from(badVersion);
        badType[0] = 99;
        n.native.testRun(emitter, 'emit_record', Buffer.from(badVersion), 1);
        n.native.testRun(emitter, 'emit_record', Buffer.from(badType), 1);
        const deadline = Date.now() + 5000;
        while (got.length < before + 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
        const s0 = { ...built.decoder.stats };
        assert.equal(built.decoder.decode(got[before]), null);
        assert.equal(built.decoder.decode(got[before + 1]), null);
        assert.equal(built.decoder.stats.unknownVersion, s0.unknownVersion + 1);
        assert.equal(built.decoder.stats.unknownType, s0.unknownType + 1);
      });
      await t.test('a burst larger than the ring: every record is either delivered or counted lost', async () => {
        const before = got.length;
        const lostBefore = lost;
        // 2000 records of ~100 bytes into 8 pages (32 KiB) per CPU overflow the ring in one call,
        // whatever the load: the reader runs on this thread, which is inside the syscall for the
        // whole burst, so nothing is read until it is over. The run is pinned to one CPU so the
        // burst cannot migrate and spread over several rings.
        const burst = n.native.testRun(emitter, 'emit_record', Buffer.from(CASES[0].rec), 2000, -1);
        assert.ok(burst.cpu >= 0);
        // One consume pass drains what the ring kept (well under 2000). The kernel writes the
        // PERF_RECORD_LOST into that ring when the next sample fits: emit one more on the same
        // CPU once the ring is empty.
        while (got.length === before) await new Promise((res) => setTimeout(res, 10));
        const kept = got.length - before;
        assert.ok(kept < 2000, `the ring kept ${kept} of 2000`);
        n.native.testRun(emitter, 'emit_record', Buffer.from(CASES[0].rec), 1, burst.cpu);
        // Waits for the condition itself; the test's own timeout bounds it.
        while (got.length - before + (lost - lostBefore) < 2001) await new Promise((res) => setTimeout(res, 10));
        assert.equal(got.length - before, kept + 1, 'the record after the burst is delivered');
        assert.equal(lost - lostBefore, 2000 - kept, 'the overflow was reported, exactly');
        assert.equal(got.length - before + (lost - lostBefore), 2001);
      });
    } finally {
      await built.source.stop();
      n.native.closeObject(emitter);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
