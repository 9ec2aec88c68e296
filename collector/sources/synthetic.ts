// Synthetic source: Cilium monitor records of one node of the synthetic cluster, at a fixed rate.
// A timer fires every `tickMs`; each tick emits rate × elapsed records as one batch. Below
// `freshUpTo` records/s every scenario is generated anew; above it, each scenario kind cycles
// through a pool of pre-generated conversations (copied per emission) so 100k+/s stays cheap.
import type { RawRecord, RecordSink, Source } from '../source.js';
import { buildCluster, type ClusterModel } from '../synthetic/cluster.js';
import { Rng } from '../synthetic/rng.js';
import { DEFAULT_WEIGHTS, NodeTraffic, SCENARIOS, type Scenario } from '../synthetic/traffic.js';

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
  /** Records handed to the sink so far. */
  emitted = 0;
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
      return c.map((b) => b.slice());
    }
    const c = pool.items[pool.next];
    pool.next = (pool.next + 1) % pool.items.length;
    return c.map((b) => b.slice());
  }

  /** Produces the next `n` records (deterministic for a seed), stamped from `startNs` 1 µs apart. */
  take(n: number, startNs = this.now()): RawRecord[] {
    const out: RawRecord[] = new Array(n);
    for (let i = 0; i < n; i++) {
      if (this.pending.length === 0) this.pending = this.conversation().reverse();
      out[i] = { data: this.pending.pop()!, cpu: 0, timeNs: startNs + i * 1000 };
    }
    return out;
  }

  async start(sink: RecordSink): Promise<void> {
    if (this.timer !== undefined) throw new Error('synthetic source already started');
    this.sink = sink;
    this.last = performance.now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
  }

  private tick(): void {
    const t = performance.now();
    const want = (this.rate * (t - this.last)) / 1000 + this.carry;
    this.last = t;
    // Never build more than one second of backlog after a stall (GC pause, suspended process).
    const n = Math.min(Math.floor(want), Math.ceil(this.rate), this.count - this.emitted);
    this.carry = Math.min(want - Math.floor(want), 1);
    if (n <= 0 || this.sink === undefined) return;
    const nowNs = this.now();
    const batch = this.take(n, nowNs - n * 1000);
    this.emitted += n;
    this.sink.records(batch);
    if (this.emitted >= this.count) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.finish();
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.sink = undefined;
  }
}
