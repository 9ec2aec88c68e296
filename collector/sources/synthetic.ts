// Synthetic source: Cilium monitor records of one node of the synthetic cluster, at a fixed rate.
// A timer fires every `tickMs`; each tick emits rate × elapsed records as one batch. Below
// `freshUpTo` records/s every scenario is generated anew; above it, each scenario kind cycles
// through a pool of pre-generated conversations (copied per emission) so 100k+/s stays cheap.
// A sink with a room() bound (the decode queue) gets no more than it has room for; the rest is
// lost in the simulated ring and reported through lost(), as a kernel ring would.
import type { RawRecord, RecordSink, Source } from '../source.js';
import { buildCluster, type ClusterModel } from '../synthetic/cluster.js';
import { Rng } from '../synthetic/rng.js';
import { DEFAULT_WEIGHTS, NodeTraffic, SCENARIOS, type Scenario } from '../synthetic/traffic.js';

const LOST_REPORT_MS = 1000;

export interface SyntheticSourceOptions {
  /** Records per second (default 50). */
  rate?: number;
  seed?: number;
  /** Cluster to simulate (default: buildCluster({ seed })). */
  model?: ClusterModel;
  /** Node whose datapath is simulated (default: the first worker). */
  nodeName?: string;
  /** Timer period (default 100 ms, 20 ms above 10k records/s). */
  tickMs?: number;
  /** Multiplies the weight of policy-denied traffic (default 1): surge hook for alert tests. */
  policyDenySurge?: number;
  /** Multiplies the weight of miscellaneous drops (default 1). */
  dropSurge?: number;
  /** Scenario weight overrides. */
  weights?: Partial<Record<Scenario, number>>;
  /** Rates up to this generate every conversation fresh (default 2000/s). */
  freshUpTo?: number;
  /** Conversations pre-generated per scenario kind for high rates (default 256). */
  poolSize?: number;
  /** Clock in ns since the epoch (tests). */
  now?: () => number;
  /** Records to emit in all; then the source is done (`done` resolves). Default: no end. */
  count?: number;
}

export class SyntheticSource implements Source {
  readonly name = 'synthetic';
  readonly model: ClusterModel;
  readonly nodeName: string;
  private readonly traffic: NodeTraffic;
  private readonly rng: Rng;
  private readonly weights: Record<Scenario, number>;
  private cumulative: number[] = [];
  private total = 0;
  private rate: number;
  private readonly tickMs: number;
  private readonly freshUpTo: number;
  private readonly poolSize: number;
  private readonly pools = new Map<Scenario, { items: Uint8Array[][]; next: number }>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private sink: RecordSink | undefined;
  private last = 0;
  private carry = 0;
  private pending: Uint8Array[] = [];
  /** Records offered so far: handed to the sink, or lost in the ring (`lostInRing`). */
  emitted = 0;
  /** Records the sink had no room for, reported to it as lost (PERF_EVENT_RING_BUFFER). */
  lostInRing = 0;
  private lostPending = 0;
  private lostReportedAt = -Infinity;
  private readonly count: number;
  private finish: () => void = () => {};
  /** Resolves once `count` records were emitted (never without a count). */
  readonly done: Promise<void> | undefined;

  constructor(opts: SyntheticSourceOptions = {}) {
    const seed = opts.seed ?? 1;
    this.model = opts.model ?? buildCluster({ seed });
    this.nodeName = opts.nodeName ?? this.model.nodes[1].name;
    this.traffic = new NodeTraffic(this.model, this.nodeName, seed);
    this.rng = new Rng(seed * 7919 + 17);
    this.weights = { ...DEFAULT_WEIGHTS, ...opts.weights };
    this.rate = opts.rate ?? 50;
    this.tickMs = opts.tickMs ?? (this.rate > 10_000 ? 20 : 100);
    this.freshUpTo = opts.freshUpTo ?? 2000;
    this.poolSize = opts.poolSize ?? 256;
    this.now = opts.now ?? (() => Date.now() * 1e6);
    this.count = opts.count ?? Infinity;
    this.done =
      opts.count === undefined
        ? undefined
        : new Promise<void>((r) => {
            this.finish = r;
          });
    this.setSurge(opts.policyDenySurge ?? 1, opts.dropSurge ?? 1);
  }

  /** Changes the surge multipliers while running. */
  setSurge(policyDeny: number, drop = 1): void {
    const w = { ...this.weights, policyDeny: this.weights.policyDeny * policyDeny, drop: this.weights.drop * drop };
    let acc = 0;
    this.cumulative = SCENARIOS.map((s) => (acc += Math.max(0, w[s])));
    this.total = acc;
  }

  setRate(rate: number): void {
    this.rate = rate;
  }

  private pickScenario(): Scenario {
    const x = this.rng.next() * this.total;
    for (let i = 0; i < SCENARIOS.length; i++) if (x < this.cumulative[i]) return SCENARIOS[i];
    return SCENARIOS[SCENARIOS.length - 1];
  }

  private fillPools(): void {
    for (let i = 0; i < SCENARIOS.length; i++) {
      const s = SCENARIOS[i];
      if (this.cumulative[i] === (i === 0 ? 0 : this.cumulative[i - 1])) continue; // weight 0: never picked
      let pool = this.pools.get(s);
      if (pool === undefined) {
        pool = { items: [], next: 0 };
        this.pools.set(s, pool);
      }
      while (pool.items.length < this.poolSize) pool.items.push(this.traffic.generate(s));
    }
  }

  private conversation(): Uint8Array[] {
    const s = this.pickScenario();
    if (this.rate <= this.freshUpTo) return this.traffic.generate(s);
    let pool = this.pools.get(s);
    if (pool === undefined) {
      pool = { items: [], next: 0 };
      this.pools.set(s, pool);
    }
    if (pool.items.length < this.poolSize) {
      const c = this.traffic.generate(s);
      pool.items.push(c);
      return c;
    }
    const c = pool.items[pool.next];
    pool.next = (pool.next + 1) % pool.items.length;
    return c;
  }

  /**
   * Produces the next `n` records (deterministic for a seed), stamped from `startNs` 1 µs apart.
   * Their payloads are copied into one buffer, each record a view of it, as the perf reader hands
   * over one buffer per pass: a record never shares bytes with the pool, and a batch is one
   * allocation rather than one per record (per-record buffers at 100k/s fragmented the heap).
   */
  take(n: number, startNs = this.now()): RawRecord[] {
    const src: Uint8Array[] = new Array(n);
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      if (this.pending.length === 0) this.pending = this.conversation().slice().reverse();
      const d = this.pending.pop()!;
      src[i] = d;
      bytes += d.byteLength;
    }
    const buf = new Uint8Array(bytes);
    const out: RawRecord[] = new Array(n);
    let o = 0;
    for (let i = 0; i < n; i++) {
      const d = src[i];
      buf.set(d, o);
      out[i] = { data: buf.subarray(o, o + d.byteLength), cpu: 0, timeNs: startNs + i * 1000 };
      o += d.byteLength;
    }
    return out;
  }

  async start(sink: RecordSink): Promise<void> {
    if (this.timer !== undefined) throw new Error('synthetic source already started');
    // Above freshUpTo, fill the pools before the first tick: filled lazily they cost the first
    // second ≈ 300 ms of generation on the collector's event loop, a stall that lost records
    // in the simulated ring at start (a generator artefact, not the collector's capacity).
    if (this.rate > this.freshUpTo) this.fillPools();
    this.sink = sink;
    this.last = performance.now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
  }

  private tick(): void {
    const t = performance.now();
    const want = (this.rate * (t - this.last)) / 1000 + this.carry;
    this.last = t;
    // Never build more than one second of backlog after a stall (GC pause, suspended process).
    const due = Math.min(Math.floor(want), Math.ceil(this.rate), this.count - this.emitted);
    this.carry = Math.min(want - Math.floor(want), 1);
    if (due <= 0 || this.sink === undefined) return;
    // Like a perf ring the reader cannot drain: what the sink has no room for is overwritten in
    // the ring — never built — and reported as lost records, so the offered rate is accounted
    // for while memory stays at the queue's bound.
    const room = this.sink.room?.() ?? due;
    const n = Math.min(due, room);
    const nowNs = this.now();
    this.emitted += due;
    if (n < due) {
      this.lostInRing += due - n;
      this.lostPending += due - n;
    }
    // One report a second at most (a kernel ring reports a lost count per wake-up, not per record).
    if (this.lostPending > 0 && t - this.lostReportedAt >= LOST_REPORT_MS) this.reportLost(t);
    if (n > 0) this.sink.records(this.take(n, nowNs - n * 1000));
    if (this.emitted >= this.count) {
      if (this.lostPending > 0) this.reportLost(t);
      clearInterval(this.timer);
      this.timer = undefined;
      this.finish();
    }
  }

  private reportLost(t: number): void {
    const n = this.lostPending;
    this.lostPending = 0;
    this.lostReportedAt = t;
    this.sink?.lost(0, n);
  }

  async stop(): Promise<void> {
    if (this.lostPending > 0) this.reportLost(performance.now());
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.sink = undefined;
  }
}
