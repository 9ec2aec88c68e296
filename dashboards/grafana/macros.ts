// Expansion of the grafana-clickhouse-datasource (v4) macros and Grafana template variables in a
// panel's SQL, as the plugin's backend does it (pkg/macros), so tests can run panel SQL against
// the real schema without Grafana.

export interface SqlContext {
  fromMs: number;
  toMs: number;
  intervalMs: number;
  /** Template variable values: name → selected values. */
  variables: Record<string, string[]>;
}

const dt = (ms: number) => `toDateTime(${Math.floor(ms / 1000)})`;
const dt64 = (ms: number) => `fromUnixTimestamp64Milli(${Math.floor(ms)})`;
const date = (ms: number) => `toDate('${new Date(ms).toISOString().slice(0, 10)}')`;

export function expandClickHouseMacros(sqlText: string, ctx: SqlContext): string {
  const seconds = Math.max(Math.floor(ctx.intervalMs / 1000), 1);
  const fn: Record<string, (args: string[]) => string> = {
    timeFilter: ([c]) => `${c} >= ${dt(ctx.fromMs)} AND ${c} <= ${dt(ctx.toMs)}`,
    timeFilter_ms: ([c]) => `${c} >= ${dt64(ctx.fromMs)} AND ${c} <= ${dt64(ctx.toMs)}`,
    dateFilter: ([c]) => `${c} >= ${date(ctx.fromMs)} AND ${c} <= ${date(ctx.toMs)}`,
    timeInterval: ([c]) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${seconds} second)`,
    timeInterval_ms: ([c]) => `toStartOfInterval(toDateTime64(${c}, 3), INTERVAL ${Math.max(ctx.intervalMs, 1)} millisecond)`,
  };
  const plain: Record<string, string> = {
    fromTime: dt(ctx.fromMs),
    toTime: dt(ctx.toMs),
    fromTime_ms: dt64(ctx.fromMs),
    toTime_ms: dt64(ctx.toMs),
    interval_s: String(seconds),
  };
  let out = sqlText.replace(/\$__(\w+)\(([^()]*)\)/g, (m, name: string, args: string) => {
    const f = fn[name];
    if (!f) throw new Error(`unknown macro ${m}`);
    return f(args.split(',').map((a) => a.trim()));
  });
  out = out.replace(/\$__(\w+)/g, (m, name: string) => {
    if (!(name in plain)) throw new Error(`unknown macro ${m}`);
    return plain[name];
  });
  // Grafana variables: ${name:singlequote}, ${name}, $name.
  out = out.replace(/\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g, (m, a: string | undefined, fmt: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    const values = ctx.variables[name];
    if (!values) throw new Error(`unknown template variable ${m}`);
    if (fmt === 'singlequote') return values.map((v) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(',');
    if (fmt !== undefined) throw new Error(`unsupported variable format ${m}`);
    return values.join(',');
  });
  return out;
}
