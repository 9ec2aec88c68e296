import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelDecoder, FS_HDR_LEN, FS_KIND_DROP, FS_KIND_TCP_CLOSE, FS_F_EGRESS, FS_F_PACKET, FS_MSG_KERNEL } from './kernel.js';
import { dropReasonNames, hubbleDropReason } from './kernel-reasons.js';
import { kernelInfoOf } from '../../proto/kernel.js';
import { frame } from '../records/frame.js';
import { SYN } from '../records/packet.js';
import { enums, enumValue } from '../../proto/index.js';

// The kernel numbers reasons differently between versions: the decoder only trusts the names.
const NAMES = dropReasonNames([
  ['SKB_NOT_DROPPED_YET', 0],
  ['SKB_CONSUMED', 1],
  ['SKB_DROP_REASON_NOT_SPECIFIED', 2],
  ['SKB_DROP_REASON_NETFILTER_DROP', 7],
  ['SKB_DROP_REASON_NO_SOCKET', 9],
]);

function record(kind: number, flags: number, packet?: Uint8Array, extra?: (b: Buffer) => void): Uint8Array {
  const b = Buffer.alloc(FS_HDR_LEN + (packet?.length ?? 0));
  b[0] = FS_MSG_KERNEL;
  b[1] = kind;
  b[2] = flags | (packet ? FS_F_PACKET : 0);
  b.writeBigUInt64LE(5_000_000_000n, 8);
  if (packet) {
    b.writeUInt16LE(packet.length, 80);
    b.set(packet, FS_HDR_LEN);
  }
  extra?.(b);
  return b;
}

const dec = () => new KernelDecoder({ nodeName: 'n1', dropReasonNames: NAMES, monotonicToEpochNs: 1_700_000_000e9, uuid: () => 'u' });

test('a drop record becomes a DROPPED flow with the kernel reason name and the nearest Hubble reason', () => {
  const pkt = frame({ src: '10.1.0.1', dst: '10.1.0.2', tcp: { sport: 40001, dport: 9, flags: SYN }, l3Only: true });
  const d = dec();
  const f = d.decode({
    data: record(FS_KIND_DROP, 0, pkt, (b) => {
      b.writeUInt32LE(9, 4);
      b.writeBigUInt64LE(60n, 16);
      b.writeBigUInt64LE(1n, 24);
      b.writeUInt32LE(3, 32);
    }),
    cpu: 0,
    timeNs: 0,
  })!;
  assert.equal(f.verdict, 2);
  assert.equal(f.IP?.source, '10.1.0.1');
  assert.equal(f.l4?.TCP?.destination_port, 9);
  assert.equal(f.drop_reason_desc, enumValue(enums.DropReason, 'SOCKET_LOOKUP_FAILED'));
  assert.deepEqual(f.event_type, { type: 1, sub_type: f.drop_reason_desc });
  assert.deepEqual(f.interface, { index: 3 });
  assert.deepEqual(f.time, { seconds: 1_700_000_005, nanos: 0 });
  assert.deepEqual(kernelInfoOf(f), { drop_reason_name: 'NO_SOCKET', drop_reason_code: 9, bytes: 60, packets: 1, event: 'drop' });
  assert.equal(f.node_name, 'n1');
});

test('a TCP close record carries the 5-tuple, direction, FIN flags and counters', () => {
  const f = dec().decode({
    data: record(FS_KIND_TCP_CLOSE, FS_F_EGRESS, undefined, (b) => {
      b[3] = 0x11;
      b[76] = 6;
      b[77] = 5;
      b[78] = 7;
      b.set([10, 1, 0, 1], 40);
      b.set([10, 1, 0, 2], 56);
      b.writeUInt16LE(40003, 72);
      b.writeUInt16LE(8080, 74);
      b.writeBigUInt64LE(15n, 16);
      b.writeBigUInt64LE(9n, 24);
    }),
    cpu: 1,
    timeNs: 0,
  })!;
  assert.equal(f.verdict, 1);
  assert.deepEqual(f.IP, { source: '10.1.0.1', destination: '10.1.0.2', ipVersion: 1 });
  assert.deepEqual(f.l4, { TCP: { source_port: 40003, destination_port: 8080, flags: { FIN: true, ACK: true } } });
  assert.equal(f.traffic_direction, 2);
  assert.equal(f.Summary, 'TCP Flags: ACK, FIN');
  assert.deepEqual(kernelInfoOf(f), { event: 'tcp_close', bytes: 15, packets: 9, tcp_old_state: 'FIN_WAIT2', tcp_new_state: 'CLOSE' });
});

test('malformed records are counted, never thrown', () => {
  const d = dec();
  assert.equal(d.decode({ data: new Uint8Array(0), cpu: 0, timeNs: 0 }), null);
  assert.equal(d.decode({ data: Uint8Array.of(1, 2, 3), cpu: 0, timeNs: 0 }), null);
  assert.equal(d.decode({ data: Uint8Array.of(FS_MSG_KERNEL, 1), cpu: 0, timeNs: 0 }), null);
  assert.equal(d.decode({ data: record(99, 0), cpu: 0, timeNs: 0 }), null);
  const lying = record(FS_KIND_DROP, FS_F_PACKET, undefined, (b) => b.writeUInt16LE(200, 80));
  assert.equal(d.decode({ data: lying, cpu: 0, timeNs: 0 }), null);
  assert.deepEqual({ t: d.stats.truncated, u: d.stats.unknownType, v: d.stats.unknownVersion, l: d.stats.badLength }, { t: 2, u: 1, v: 1, l: 1 });
});

test('reason names come from BTF pairs without the prefix; only clear counterparts are mapped', () => {
  assert.equal(NAMES[9], 'NO_SOCKET');
  assert.equal(NAMES[1], 'SKB_CONSUMED');
  assert.equal(hubbleDropReason('NETFILTER_DROP'), 133);
  assert.equal(hubbleDropReason('TCP_OFO_DROP'), 0);
});

test('a kernel drop without a Hubble counterpart prints its kernel reason, not "Success"', async () => {
  const { getFlowType } = await import('../../api/printer/flow-fields.js');
  const named = dropReasonNames([['SKB_DROP_REASON_TCP_OFO_DROP', 4]]);
  const d = new KernelDecoder({ nodeName: 'n1', dropReasonNames: named, monotonicToEpochNs: 0 });
  const f = d.decode({ data: record(FS_KIND_DROP, 0, undefined, (b) => b.writeUInt32LE(4, 4)), cpu: 0, timeNs: 0 })!;
  assert.equal(getFlowType(f), 'kernel TCP_OFO_DROP');
  const mapped = dec().decode({ data: record(FS_KIND_DROP, 0, undefined, (b) => b.writeUInt32LE(7, 4)), cpu: 0, timeNs: 0 })!;
  assert.equal(getFlowType(mapped), 'Policy denied');
});
