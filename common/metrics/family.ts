// Labelled counters for per-flow metrics, registered into a prom-client Registry as custom
// metrics. prom-client's own Counter hashes a label object on every inc(); here a handler writes
// label values into the family's reusable `values` array and calls inc(), which walks a tree of
// Maps keyed by one label value per level: no string is built and nothing is allocated for a
// label set seen before. The family also enforces what prom-client does not:
//  * a hard cap on series per family (refusals are counted, never silently dropped);
//  * expiry of label sets not updated for a while (series of deleted pods go away);
//  * a new label set is exposed at 0 on its first scrape and with its count afterwards, because
//    Prometheus cannot see the increase of a series whose first sample is already above 0.
import type { Registry } from 'prom-client';

export interface SeriesPolicy {
  /** Series one family may hold; new label sets beyond it are refused (and counted). */
  maxSeries: number;
  /** Label sets not updated for this long are removed (0 = never). */
  expireAfterMs: number;
  /** Called once per refused increment, with the family's name. */
  onRefused(metric: string): void;
}

interface Series {
  values: string[];
  count: number;
  lastMs: number;
  exposed: boolean;
  parent: Level;
  key: string;
}

// One level of the label tree: label value → next level, or → Series at the last level.
type Level = Map<string, Level | Series>;

interface MetricValue {
  labels: Record<string, string>;
  value: number;
}

export class CounterFamily {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  /** Scratch label values, in `labelNames` order: fill, then call inc(). */
  readonly values: string[];
  private readonly root: Level = new Map();
  private readonly series = new Set<Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly policy: SeriesPolicy,
  ) {
    this.values = new Array<string>(labelNames.length).fill('');
  }

  get size(): number {
    return this.series.size;
  }

  /** Adds `by` to the series named by `values`; `nowMs` is the caller's (per batch) clock. */
  inc(nowMs: number, by = 1): void {
    let s = this.lookup(this.values);
    if (s === undefined) {
      if (this.series.size >= this.policy.maxSeries) {
        this.policy.onRefused(this.name);
        return;
      }
      s = this.create(this.values);
    }
    s.count += by;
    s.lastMs = nowMs;
  }

  private lookup(values: readonly string[]): Series | undefined {
    let level: Level | Series | undefined = this.root;
    const n = values.length;
    if (n === 0) return this.root.get('') as Series | undefined;
    for (let i = 0; i < n && level !== undefined; i++) level = (level as Level).get(values[i]);
    return level as Series | undefined;
  }

  private create(values: readonly string[]): Series {
    let level = this.root;
    const n = values.length;
    for (let i = 0; i < n - 1; i++) {
      let next = level.get(values[i]) as Level | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(values[i], next);
      }
      level = next;
    }
    const key = n === 0 ? '' : values[n - 1];
    const s: Series = { values: values.slice(), count: 0, lastMs: 0, exposed: false, parent: level, key };
    level.set(key, s);
    this.series.add(s);
    return s;
  }

  /** Removes label sets not updated since `nowMs - expireAfterMs`; returns how many. */
  expire(nowMs: number): number {
    if (this.policy.expireAfterMs <= 0) return 0;
    const before = nowMs - this.policy.expireAfterMs;
    let n = 0;
    for (const s of this.series) {
      if (s.lastMs >= before) continue;
      s.parent.delete(s.key);
      this.series.delete(s);
      n++;
    }
    // Rebuild the tree so branches of removed series do not pile up (once a sweep, O(series)).
    if (n > 0) {
      this.root.clear();
      const kept = [...this.series];
      this.series.clear();
      for (const s of kept) {
        const fresh = this.create(s.values);
        fresh.count = s.count;
        fresh.lastMs = s.lastMs;
        fresh.exposed = s.exposed;
      }
    }
    return n;
  }

  /** The current value of one label set (tests). */
  valueOf(values: readonly string[]): number | undefined {
    return this.lookup(values)?.count;
  }

  /** prom-client's collection hook (called on scrape). */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
    const out: MetricValue[] = [];
    for (const s of this.series) {
      const labels: Record<string, string> = {};
      for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i]] = s.values[i];
      out.push({ labels, value: s.exposed ? s.count : 0 });
      s.exposed = true;
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: out };
  }

  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
    return this;
  }
}

/** A counter or gauge whose values are read from existing stats objects at scrape time (no hot-path cost). */
export class ObservedMetric {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
    private readonly read: () => Array<{ labels?: Record<string, string>; value: number }> | number,
  ) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
    const r = this.read();
    const values = typeof r === 'number' ? [{ labels: {}, value: r }] : r.map((v) => ({ labels: v.labels ?? {}, value: v.value }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
    return this;
  }
}
