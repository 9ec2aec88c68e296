// Collects named ClickHouse query parameters so user values never enter SQL text.

export class Params {
  readonly values: Record<string, unknown> = {};
  #n = 0;

  constructor(private readonly prefix = 'f') {}

  /** Registers a value and returns its placeholder, e.g. `{f3:String}`. */
  add(type: string, value: unknown): string {
    const name = `${this.prefix}${this.#n++}`;
    this.values[name] = value;
    return `{${name}:${type}}`;
  }

  str(v: string): string {
    return this.add('String', v);
  }
  u32(v: number): string {
    return this.add('UInt32', v);
  }
  i32(v: number): string {
    return this.add('Int32', v);
  }
  u64(v: number): string {
    return this.add('UInt64', String(v));
  }

  /** `col IN (a, b, …)` with one parameter per value. */
  inList(col: string, type: string, vals: readonly unknown[]): string {
    return `${col} IN (${vals.map((v) => this.add(type, v)).join(', ')})`;
  }
}
