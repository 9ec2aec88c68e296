// Flow UUIDs: RFC 9562 version 7 — 48-bit Unix milliseconds, then a 74-bit monotonic counter
// seeded from a per-process random value (the spec's "monotonic random" method). Flows of one
// collector therefore carry UUIDs that sort by creation time and differ from their neighbours in
// a few low bytes, which keeps the stored uuid column small (docs/storage.md), while the random
// seed keeps collectors apart. Text is built into one reused buffer: no per-call allocation but
// the returned string.
import { randomFillSync } from 'node:crypto';

const HEX = Buffer.from('0123456789abcdef', 'latin1');
const text = Buffer.alloc(36);
const bytes = new Uint8Array(16);
// Counter: 12 bits in rand_a, then 62 bits in rand_b; we keep the low 44 bits in a number and
// the upper 30 bits (random per process) fixed, so a process never wraps in practice.
const seed = new Uint8Array(8);
randomFillSync(seed);
let counter = ((seed[0] << 16) | (seed[1] << 8) | seed[2]) * 0x1000; // leaves room to count up
let lastMs = 0;

function writeHex(): string {
  let t = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[t++] = 0x2d;
    text[t++] = HEX[bytes[i] >> 4];
    text[t++] = HEX[bytes[i] & 15];
  }
  return text.toString('latin1', 0, 36);
}

export function fastUUID(nowMs = Date.now()): string {
  // Time never goes backwards within a process (a clock step keeps the last millisecond).
  if (nowMs > lastMs) lastMs = nowMs;
  counter++;
  const ms = lastMs;
  bytes[0] = Math.floor(ms / 0x100_0000_0000) & 0xff;
  bytes[1] = Math.floor(ms / 0x1_0000_0000) & 0xff;
  bytes[2] = (ms >>> 24) & 0xff;
  bytes[3] = (ms >>> 16) & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  // counter (44 bits): top 12 bits → rand_a, low 32 bits → end of rand_b.
  const hi12 = Math.floor(counter / 0x1_0000_0000) & 0xfff;
  const lo32 = counter >>> 0;
  bytes[6] = 0x70 | (hi12 >> 8);
  bytes[7] = hi12 & 0xff;
  bytes[8] = 0x80 | (seed[3] & 0x3f); // variant 10, then 30 random bits of this process
  bytes[9] = seed[4];
  bytes[10] = seed[5];
  bytes[11] = seed[6];
  bytes[12] = lo32 >>> 24;
  bytes[13] = (lo32 >>> 16) & 0xff;
  bytes[14] = (lo32 >>> 8) & 0xff;
  bytes[15] = lo32 & 0xff;
  return writeHex();
}
