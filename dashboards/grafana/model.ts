// Minimal builders for Grafana dashboard JSON (schema 39, Grafana 10/11): just the fields the
// flowscope dashboards use. Importable through Dashboards → Import; the datasources are the
// template variables ${DS_PROMETHEUS} and ${DS_CLICKHOUSE} (grafana-clickhouse-datasource v4).

export const PROM = { type: 'prometheus', uid: '${DS_PROMETHEUS}' } as const;
export const CH = { type: 'grafana-clickhouse-datasource', uid: '${DS_CLICKHOUSE}' } as const;

export interface PromTarget {
  refId: string;
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  format?: 'time_series' | 'table';
}
export interface SqlTarget {
  refId: string;
  rawSql: string;
  format: 'time_series' | 'table' | 'nodes' | 'edges';
}

export interface Panel {
  type: string;
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: typeof PROM | typeof CH;
  targets: Array<Record<string, unknown>>;
  fieldConfig?: Record<string, unknown>;
  options?: Record<string, unknown>;
  id?: number;
}

type Layout = { w: number; h: number };
const DEFAULT: Layout = { w: 12, h: 8 };

/** Lays panels out left to right, top to bottom, in a 24-column grid. */
export class Grid {
  private x = 0;
  private y = 0;
  private rowH = 0;
  readonly panels: Panel[] = [];

  add(p: Omit<Panel, 'gridPos'>, l: Partial<Layout> = {}): this {
    const { w, h } = { ...DEFAULT, ...l };
    if (this.x + w > 24) {
      this.x = 0;
      this.y += this.rowH;
      this.rowH = 0;
    }
    this.panels.push({ ...p, id: this.panels.length + 1, gridPos: { x: this.x, y: this.y, w, h } });
    this.x += w;
    this.rowH = Math.max(this.rowH, h);
    return this;
  }
}

export function prom(
  title: string,
  type: string,
  unit: string,
  targets: PromTarget[],
  description?: string,
  extra: Partial<Panel> = {},
): Omit<Panel, 'gridPos'> {
  return {
    type,
    title,
    description,
    datasource: PROM,
    targets: targets.map((t) => ({ datasource: PROM, range: !t.instant, ...t })),
    fieldConfig: { defaults: { unit }, overrides: [] },
    ...extra,
  };
}

const CH_FORMAT = { table: 1, time_series: 0, nodes: 1, edges: 1 } as const;

export function sql(title: string, type: string, unit: string, targets: SqlTarget[], description?: string, extra: Partial<Panel> = {}): Omit<Panel, 'gridPos'> {
  return {
    type,
    title,
    description,
    datasource: CH,
    targets: targets.map((t) => ({
      datasource: CH,
      refId: t.refId,
      editorType: 'sql',
      rawSql: t.rawSql,
      format: CH_FORMAT[t.format],
      queryType: t.format === 'time_series' ? 'timeseries' : 'table',
      ...(t.format === 'nodes' || t.format === 'edges' ? { meta: { nodeGraph: t.format } } : {}),
    })),
    fieldConfig: { defaults: { unit }, overrides: [] },
    ...extra,
  };
}

export interface Variable {
  name: string;
  [k: string]: unknown;
}

export const DS_PROMETHEUS_VAR: Variable = { name: 'DS_PROMETHEUS', label: 'Prometheus', type: 'datasource', query: 'prometheus', hide: 0, current: {} };
export const DS_CLICKHOUSE_VAR: Variable = {
  name: 'DS_CLICKHOUSE',
  label: 'ClickHouse',
  type: 'datasource',
  query: 'grafana-clickhouse-datasource',
  hide: 0,
  current: {},
};

/** A multi-value namespace variable over a Prometheus label (All = ".*"). */
export function promNamespaceVar(name: string, query: string): Variable {
  return {
    name,
    label: 'Namespace',
    type: 'query',
    datasource: PROM,
    query: { query, refId: `${name}-var` },
    definition: query,
    multi: true,
    includeAll: true,
    allValue: '.*',
    refresh: 2,
    sort: 1,
    current: { text: 'All', value: '$__all' },
  };
}

/** A multi-value namespace variable from ClickHouse (All = every value, quoted with :singlequote). */
export function chNamespaceVar(name: string, rawSql: string): Variable {
  return {
    name,
    label: 'Namespace',
    type: 'query',
    datasource: CH,
    query: rawSql,
    definition: rawSql,
    multi: true,
    includeAll: true,
    refresh: 2,
    sort: 1,
    current: { text: 'All', value: '$__all' },
  };
}

export interface Dashboard {
  file: string;
  json: Record<string, unknown>;
}

const INPUTS = {
  prometheus: {
    name: 'DS_PROMETHEUS',
    label: 'Prometheus',
    description: 'Prometheus scraping the flowscope collectors and relay',
    type: 'datasource',
    pluginId: 'prometheus',
    pluginName: 'Prometheus',
  },
  clickhouse: {
    name: 'DS_CLICKHOUSE',
    label: 'ClickHouse',
    description: 'ClickHouse holding the flowscope flows and flows_1m tables',
    type: 'datasource',
    pluginId: 'grafana-clickhouse-datasource',
    pluginName: 'ClickHouse',
  },
};

export function dashboard(file: string, uid: string, title: string, description: string, grid: Grid, variables: Variable[]): Dashboard {
  const usesProm = grid.panels.some((p) => p.datasource === PROM);
  const usesCh = grid.panels.some((p) => p.datasource === CH);
  const inputs = [...(usesProm ? [INPUTS.prometheus] : []), ...(usesCh ? [INPUTS.clickhouse] : [])];
  const requires = [
    { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.0.0' },
    ...(usesProm ? [{ type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '2.0.0' }] : []),
    ...(usesCh ? [{ type: 'datasource', id: 'grafana-clickhouse-datasource', name: 'ClickHouse', version: '4.0.0' }] : []),
    ...[...new Set(grid.panels.map((p) => p.type))].sort().map((t) => ({ type: 'panel', id: t, name: t, version: '' })),
  ];
  const dsVars = [...(usesProm ? [DS_PROMETHEUS_VAR] : []), ...(usesCh ? [DS_CLICKHOUSE_VAR] : [])];
  return {
    file,
    json: {
      __inputs: inputs,
      __requires: requires,
      uid,
      title,
      description,
      tags: ['flowscope', 'hubble', 'network'],
      editable: true,
      graphTooltip: 1,
      schemaVersion: 39,
      version: 1,
      time: { from: 'now-1h', to: 'now' },
      refresh: '30s',
      timepicker: {},
      timezone: '',
      annotations: { list: [] },
      links: [{ title: 'flowscope dashboards', type: 'dashboards', tags: ['flowscope'], asDropdown: true }],
      templating: { list: [...dsVars, ...variables] },
      panels: grid.panels,
    },
  };
}
