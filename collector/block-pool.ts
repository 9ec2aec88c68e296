// Reused buffers for finished blocks. A fresh buffer of ~1 MB for every 2,000 flows costs a
// page fault per 4 KiB touched (about a tenth of the collector's CPU on a VM) and, once it dies
// in the old generation, lingers until a full GC while glibc keeps the memory. A block's buffer
// comes back here once every holder let go of it: the ring when the block leaves it, the shipper
// when the relay acknowledged the batch. A holder that cannot tell when the bytes stop being read
// (a batch handed to gRPC and then spilled) abandons its lease: the buffer is left to the GC.

export interface BlockPoolOptions {
  /** Buffers kept for reuse at most (the others go to the GC). */
  maxFree: number;
  /** Blocks smaller than this get a buffer of their own (a time-cut block of a quiet node). */
  minBytes: number;
}
export const DEFAULT_BLOCK_POOL: BlockPoolOptions = { maxFree: 8, minBytes: 256 * 1024 };
const CAPACITY_STEP = 64 * 1024;

export class BlockLease {
  private refs = 1;
  private abandoned = false;

  /** `pool` null: a buffer of its own, never reused. */
  constructor(
    private readonly pool: BlockPool | null,
    private readonly buf: Buffer,
  ) {}

  /** The first `n` bytes of the leased buffer. */
  bytes(n: number): Buffer {
    return this.buf.subarray(0, n);
  }

  /** One more holder; each calls release() (or abandon()) once. */
  hold(): void {
    if (this.refs <= 0) throw new Error('BlockLease.hold() after the last release');
    this.refs++;
  }

  release(): void {
    if (this.refs <= 0) throw new Error('BlockLease released more often than held');
    if (--this.refs === 0 && !this.abandoned) this.pool?.put(this.buf);
  }

  /** Releases, and the buffer is never reused: something may still read it. */
  abandon(): void {
    this.abandoned = true;
    this.release();
  }
}

export interface BlockPoolStats {
  leased: number;
  reused: number;
  returned: number;
}

export class BlockPool {
  private readonly free: Buffer[] = [];
  readonly stats: BlockPoolStats = { leased: 0, reused: 0, returned: 0 };

  private readonly opts: BlockPoolOptions;

  constructor(opts: Partial<BlockPoolOptions> = {}) {
    this.opts = { ...DEFAULT_BLOCK_POOL, ...opts };
  }

  /** A lease of at least `n` bytes, held once (by the caller). */
  lease(n: number): BlockLease {
    this.stats.leased++;
    if (n < this.opts.minBytes) return new BlockLease(null, Buffer.allocUnsafe(n));
    const free = this.free;
    for (let i = free.length - 1; i >= 0; i--) {
      if (free[i].length < n) continue;
      const buf = free[i];
      free[i] = free[free.length - 1];
      free.pop();
      this.stats.reused++;
      return new BlockLease(this, buf);
    }
    return new BlockLease(this, Buffer.allocUnsafeSlow(Math.ceil((n * 1.25) / CAPACITY_STEP) * CAPACITY_STEP));
  }

  /** Buffers waiting for reuse. */
  get size(): number {
    return this.free.length;
  }

  put(buf: Buffer): void {
    this.stats.returned++;
    if (this.free.length < this.opts.maxFree) this.free.push(buf);
  }
}
