// The flowscope Grafana dashboards, defined once here and written to dashboards/grafana/*.json
// (`node dist/dashboards/grafana/write.js`); a test keeps the committed JSON equal to this.
// PromQL uses the collectors' default contexts (`source`/`destination` = namespace); SQL reads
// the `flows` table and its per-minute rollup `flows_1m` (storage/schema.ts, storage/rollup.ts).
import { enums } from '../../proto/index.js';
import { chNamespaceVar, dashboard, Grid, prom, promNamespaceVar, sql, type Dashboard } from './model.js';

const R = '[$__rate_interval]';
const NS = 'source=~"$namespace"';

/** Hubble DropReason number → name, in SQL (flows_1m stores the enum number). */
function dropReasonSql(col: string): string {
  const entries = Object.entries(enums.DropReason.values).sort((a, b) => a[1] - b[1]);
  return `transform(${col}, [${entries.map(([, v]) => v).join(', ')}], [${entries.map(([k]) => `'${k}'`).join(', ')}], toString(${col}))`;
}

const CH_NS = '(src_namespace IN (${ch_namespace:singlequote}) OR dst_namespace IN (${ch_namespace:singlequote}))';
const chNsVar = () =>
  chNamespaceVar('ch_namespace', "SELECT DISTINCT src_namespace FROM flows_1m WHERE $__timeFilter(minute) AND src_namespace != '' ORDER BY src_namespace");
const nsVar = () => promNamespaceVar('namespace', 'label_values(hubble_flows_processed_total, source)');

function overview(): Dashboard {
  const g = new Grid()
    .add(prom('Flows/s', 'stat', 'ops', [{ refId: 'A', expr: `sum(rate(hubble_flows_processed_total{${NS}}${R}))` }]), { w: 4, h: 4 })
    .add(prom('Drops/s', 'stat', 'ops', [{ refId: 'A', expr: `sum(rate(hubble_drop_total{${NS}}${R}))` }]), { w: 4, h: 4 })
    .add(prom('Policy denials/s (5m)', 'stat', 'ops', [{ refId: 'A', expr: `sum(flowscope:hubble_policy_denied:rate5m{${NS}})` }]), { w: 4, h: 4 })
    .add(prom('Flows to world/s', 'stat', 'ops', [{ refId: 'A', expr: `sum(rate(hubble_flows_to_world_total{${NS}}${R}))` }]), { w: 4, h: 4 })
    .add(prom('Connected collectors', 'stat', 'none', [{ refId: 'A', expr: 'sum(flowscope_relay_connected_collectors)' }]), { w: 4, h: 4 })
    .add(
      prom(
        'Lost events (1h)',
        'stat',
        'none',
        [{ refId: 'A', expr: 'sum(increase(hubble_lost_events_total[1h]))' }],
        'Flows missing from history: perf ring overflow or a full queue towards the relay',
      ),
      { w: 4, h: 4 },
    )
    .add(
      prom('Flows by verdict', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (verdict) (rate(hubble_flows_processed_total{${NS}}${R}))`, legendFormat: '{{verdict}}' },
      ]),
    )
    .add(
      prom('Flows by protocol', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (protocol) (rate(hubble_flows_processed_total{${NS}}${R}))`, legendFormat: '{{protocol}}' },
      ]),
    )
    .add(
      prom('Drops by reason', 'timeseries', 'ops', [{ refId: 'A', expr: `sum by (reason) (rate(hubble_drop_total{${NS}}${R}))`, legendFormat: '{{reason}}' }]),
    )
    .add(
      prom('Policy verdicts', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (direction, action) (rate(hubble_policy_verdicts_total{${NS}}${R}))`, legendFormat: '{{direction}} {{action}}' },
      ]),
    )
    .add(
      prom('Flows to world by namespace', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (source, verdict) (rate(hubble_flows_to_world_total{${NS}}${R}))`, legendFormat: '{{source}} {{verdict}}' },
      ]),
    )
    .add(
      prom('TCP flags', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (flag, family) (rate(hubble_tcp_flags_total${R}))`, legendFormat: '{{flag}} {{family}}' },
      ]),
    )
    .add(
      prom('ICMP by type', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (family, type) (rate(hubble_icmp_total${R}))`, legendFormat: '{{family}} {{type}}' },
      ]),
    )
    .add(
      prom('Top destination ports', 'bargauge', 'ops', [
        {
          refId: 'A',
          expr: `topk(10, sum by (protocol, port) (rate(hubble_port_distribution_total${R})))`,
          legendFormat: '{{protocol}}/{{port}}',
          instant: true,
        },
      ]),
    );
  return dashboard(
    'flowscope-overview.json',
    'flowscope-overview',
    'flowscope / Cluster overview',
    'Flows, verdicts, drops and protocols across the cluster (Hubble metrics from the collectors).',
    g,
    [nsVar()],
  );
}

function drops(): Dashboard {
  const reason = dropReasonSql('drop_reason_desc');
  const g = new Grid()
    .add(
      prom('Drops by reason', 'timeseries', 'ops', [{ refId: 'A', expr: `sum by (reason) (flowscope:hubble_drop:rate5m{${NS}})`, legendFormat: '{{reason}}' }]),
    )
    .add(
      prom('Drops by source namespace', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (source) (rate(hubble_drop_total{${NS}}${R}))`, legendFormat: '{{source}}' },
      ]),
    )
    .add(
      prom('Drops by destination namespace', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (destination) (rate(hubble_drop_total{${NS}}${R}))`, legendFormat: '{{destination}}' },
      ]),
    )
    .add(
      prom('Policy denials, source → destination (5m)', 'table', 'ops', [
        { refId: 'A', expr: `sort_desc(flowscope:hubble_policy_denied:rate5m{${NS}})`, instant: true, format: 'table' },
      ]),
    )
    .add(
      sql(
        'Drops by workload',
        'table',
        'none',
        [
          {
            refId: 'A',
            format: 'table',
            rawSql: `SELECT src_namespace, src_workload, dst_namespace, dst_workload, ${reason} AS reason, sum(flows) AS drops
FROM flows_1m
WHERE $__timeFilter(minute) AND verdict = 2 AND ${CH_NS}
GROUP BY src_namespace, src_workload, dst_namespace, dst_workload, reason
ORDER BY drops DESC
LIMIT 50`,
          },
        ],
        'From the per-minute rollup in ClickHouse: every stored flow, by workload.',
      ),
      { w: 24, h: 10 },
    )
    .add(
      sql('Drops over time by reason (ClickHouse)', 'timeseries', 'none', [
        {
          refId: 'A',
          format: 'time_series',
          rawSql: `SELECT $__timeInterval(minute) AS time, ${reason} AS reason, sum(flows) AS drops
FROM flows_1m
WHERE $__timeFilter(minute) AND verdict = 2 AND ${CH_NS}
GROUP BY time, reason
ORDER BY time`,
        },
      ]),
    )
    .add(
      sql('Drops by node', 'bargauge', 'none', [
        {
          refId: 'A',
          format: 'table',
          rawSql: `SELECT node_name, sum(flows) AS drops
FROM flows_1m
WHERE $__timeFilter(minute) AND verdict = 2 AND ${CH_NS}
GROUP BY node_name
ORDER BY drops DESC`,
        },
      ]),
    );
  return dashboard('flowscope-drops.json', 'flowscope-drops', 'flowscope / Drops', 'Dropped flows by reason, namespace and workload.', g, [nsVar(), chNsVar()]);
}

function dns(): Dashboard {
  const g = new Grid()
    .add(
      prom('DNS queries by namespace', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (source) (rate(hubble_dns_queries_total{${NS}}${R}))`, legendFormat: '{{source}}' },
      ]),
    )
    .add(
      prom('DNS responses by rcode', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (rcode) (rate(hubble_dns_responses_total{${NS}}${R}))`, legendFormat: '{{rcode}}' },
      ]),
    )
    .add(
      prom('SERVFAIL / REFUSED ratio (5m)', 'timeseries', 'percentunit', [
        { refId: 'A', expr: `flowscope:hubble_dns_servfail_ratio:rate5m{${NS}}`, legendFormat: '{{source}}' },
      ]),
    )
    .add(
      prom('NXDOMAIN ratio (5m)', 'timeseries', 'percentunit', [
        { refId: 'A', expr: `flowscope:hubble_dns_nxdomain_ratio:rate5m{${NS}}`, legendFormat: '{{source}}' },
      ]),
    )
    .add(
      prom('Response record types', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (type) (rate(hubble_dns_response_types_total{${NS}}${R}))`, legendFormat: '{{type}}' },
      ]),
    )
    .add(
      prom('Query types', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (qtypes) (rate(hubble_dns_queries_total{${NS}}${R}))`, legendFormat: '{{qtypes}}' },
      ]),
    )
    .add(
      sql(
        'Top NXDOMAIN names',
        'table',
        'none',
        [
          {
            refId: 'A',
            format: 'table',
            rawSql: `SELECT dns_query, src_namespace, count() AS answers
FROM flows
WHERE $__timeFilter(time) AND dns_rcode = 3 AND dns_query != '' AND is_reply = 1 AND ${CH_NS}
GROUP BY dns_query, src_namespace
ORDER BY answers DESC
LIMIT 20`,
          },
        ],
        "Names answered NXDOMAIN most often (flows carry DNS when the collector's dns metric is on).",
      ),
    )
    .add(
      sql('DNS traffic by client namespace (ClickHouse)', 'timeseries', 'none', [
        {
          refId: 'A',
          format: 'time_series',
          rawSql: `SELECT $__timeInterval(minute) AS time, src_namespace, sum(flows) AS flows
FROM flows_1m
WHERE $__timeFilter(minute) AND dst_port = 53 AND ${CH_NS}
GROUP BY time, src_namespace
ORDER BY time`,
        },
      ]),
    );
  return dashboard('flowscope-dns.json', 'flowscope-dns', 'flowscope / DNS', 'DNS queries, answers and errors per namespace.', g, [nsVar(), chNsVar()]);
}

/** Workload pairs from the rollup, ranked by `by` (the other sum shown beside it). */
function topTalkersSQL(where: string, by: 'flows' | 'bytes', other: 'flows' | 'bytes'): string {
  return `SELECT src_namespace, src_workload, dst_namespace, dst_workload, sum(${by}) AS ${by}, sum(${other}) AS ${other}
FROM flows_1m
WHERE ${where}
GROUP BY src_namespace, src_workload, dst_namespace, dst_workload
ORDER BY ${by} DESC
LIMIT 25`;
}

function talkers(): Dashboard {
  const where = `$__timeFilter(minute) AND ${CH_NS}`;
  const g = new Grid()
    .add(sql('Top talkers by flows', 'table', 'none', [{ refId: 'A', format: 'table', rawSql: topTalkersSQL(where, 'flows', 'bytes') }]))
    .add(sql('Top talkers by bytes', 'table', 'bytes', [{ refId: 'A', format: 'table', rawSql: topTalkersSQL(where, 'bytes', 'flows') }]))
    .add(
      sql(
        'Service dependencies',
        'nodeGraph',
        'none',
        [
          {
            refId: 'nodes',
            format: 'nodes',
            rawSql: `SELECT id, id AS title, sum(flows) AS mainstat
FROM (
  SELECT concat(src_namespace, '/', src_workload) AS id, flows FROM flows_1m WHERE ${where}
  UNION ALL
  SELECT concat(dst_namespace, '/', dst_workload) AS id, flows FROM flows_1m WHERE ${where}
)
GROUP BY id
ORDER BY mainstat DESC
LIMIT 100`,
          },
          {
            refId: 'edges',
            format: 'edges',
            rawSql: `SELECT concat(source, ' -> ', target) AS id, source, target, sum(flows) AS mainstat, sumIf(flows, verdict = 2) AS secondarystat
FROM (
  SELECT concat(src_namespace, '/', src_workload) AS source, concat(dst_namespace, '/', dst_workload) AS target, flows, verdict
  FROM flows_1m
  WHERE ${where}
)
GROUP BY source, target
ORDER BY mainstat DESC
LIMIT 200`,
          },
        ],
        'Workload → workload edges: main stat = flows, secondary = dropped flows.',
      ),
      { w: 24, h: 14 },
    )
    .add(
      sql('Dependencies with drop ratio', 'table', 'none', [
        {
          refId: 'A',
          format: 'table',
          rawSql: `SELECT src_namespace, src_workload, dst_namespace, dst_workload, protocol, dst_port,
  sum(flows) AS total, sumIf(flows, verdict = 2) AS dropped, round(dropped / total, 4) AS drop_ratio
FROM flows_1m
WHERE ${where}
GROUP BY src_namespace, src_workload, dst_namespace, dst_workload, protocol, dst_port
ORDER BY total DESC
LIMIT 100`,
        },
      ]),
      { w: 24, h: 10 },
    )
    .add(
      sql('Flows by source namespace', 'timeseries', 'none', [
        {
          refId: 'A',
          format: 'time_series',
          rawSql: `SELECT $__timeInterval(minute) AS time, src_namespace, sum(flows) AS flows
FROM flows_1m
WHERE ${where}
GROUP BY time, src_namespace
ORDER BY time`,
        },
      ]),
    )
    .add(
      sql('Top destination ports', 'bargauge', 'none', [
        {
          refId: 'A',
          format: 'table',
          rawSql: `SELECT concat(protocol, '/', toString(dst_port)) AS port, sum(flows) AS flows
FROM flows_1m
WHERE ${where} AND protocol IN ('TCP', 'UDP', 'SCTP')
GROUP BY port
ORDER BY flows DESC
LIMIT 15`,
        },
      ]),
    );
  return dashboard(
    'flowscope-top-talkers.json',
    'flowscope-top-talkers',
    'flowscope / Top talkers and service dependencies',
    'Who talks to whom, from the flows_1m rollup in ClickHouse.',
    g,
    [chNsVar()],
  );
}

function pipeline(): Dashboard {
  const g = new Grid()
    .add(prom('Targets up', 'stat', 'none', [{ refId: 'A', expr: 'up{job=~"flowscope-.*"}', legendFormat: '{{job}} {{instance}}', instant: true }]), {
      w: 24,
      h: 4,
    })
    .add(
      prom('Records read / flows decoded', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (instance) (rate(flowscope_collector_records_read_total${R}))`, legendFormat: 'read {{instance}}' },
        { refId: 'B', expr: `sum by (instance) (rate(flowscope_collector_flows_total${R}))`, legendFormat: 'decoded {{instance}}' },
      ]),
    )
    .add(
      prom('Decode errors by kind', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (kind) (rate(flowscope_collector_decode_errors_total${R}))`, legendFormat: '{{kind}}' },
      ]),
    )
    .add(
      prom('Ring fill', 'timeseries', 'percentunit', [
        { refId: 'A', expr: 'flowscope_collector_ring_flows / flowscope_collector_ring_capacity', legendFormat: '{{instance}}' },
      ]),
    )
    .add(
      prom('Ship queue (unacknowledged flows)', 'timeseries', 'none', [
        { refId: 'A', expr: 'flowscope_collector_ship_queue_flows', legendFormat: '{{instance}}' },
      ]),
    )
    .add(
      prom('Batches sent / acknowledged', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (instance) (rate(flowscope_collector_ship_batches_sent_total${R}))`, legendFormat: 'sent {{instance}}' },
        { refId: 'B', expr: `sum by (instance) (rate(flowscope_collector_ship_batches_acked_total${R}))`, legendFormat: 'acked {{instance}}' },
      ]),
    )
    .add(
      prom('Ship latency (send → durable ack)', 'timeseries', 's', [
        { refId: 'A', expr: `histogram_quantile(0.5, sum by (le) (rate(flowscope_collector_ship_latency_seconds_bucket${R})))`, legendFormat: 'p50' },
        { refId: 'B', expr: `histogram_quantile(0.99, sum by (le) (rate(flowscope_collector_ship_latency_seconds_bucket${R})))`, legendFormat: 'p99' },
      ]),
    )
    .add(
      prom('Relay connection (collector view)', 'timeseries', 'none', [
        { refId: 'A', expr: 'flowscope_collector_relay_connected', legendFormat: '{{instance}}' },
      ]),
    )
    .add(
      prom('Connected collectors (relay view)', 'timeseries', 'none', [
        { refId: 'A', expr: 'flowscope_relay_connected_collectors', legendFormat: '{{instance}}' },
      ]),
    )
    .add(
      prom('Ingest lag', 'timeseries', 's', [
        { refId: 'A', expr: 'flowscope_relay_ingest_lag_seconds', legendFormat: 'latest insert {{instance}}' },
        { refId: 'B', expr: `histogram_quantile(0.99, sum by (le) (rate(flowscope_relay_ingest_lag_distribution_seconds_bucket${R})))`, legendFormat: 'p99' },
      ]),
    )
    .add(
      prom('Relay ingest queue (rows not yet durable)', 'timeseries', 'none', [
        { refId: 'A', expr: 'flowscope_relay_pending_rows', legendFormat: '{{instance}}' },
      ]),
    )
    .add(
      prom('Storage insert rows/s and errors/s', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (instance) (rate(flowscope_storage_insert_rows_total${R}))`, legendFormat: 'rows {{instance}}' },
        { refId: 'B', expr: `sum by (instance) (rate(flowscope_storage_insert_errors_total${R}))`, legendFormat: 'errors {{instance}}' },
      ]),
    )
    .add(
      prom('Storage insert latency', 'timeseries', 's', [
        { refId: 'A', expr: `histogram_quantile(0.5, sum by (le) (rate(flowscope_storage_insert_duration_seconds_bucket${R})))`, legendFormat: 'p50' },
        { refId: 'B', expr: `histogram_quantile(0.99, sum by (le) (rate(flowscope_storage_insert_duration_seconds_bucket${R})))`, legendFormat: 'p99' },
      ]),
    )
    .add(
      prom('Lost events by source', 'timeseries', 'ops', [
        { refId: 'A', expr: `sum by (source) (rate(hubble_lost_events_total${R}))`, legendFormat: 'collectors {{source}}' },
        { refId: 'B', expr: `sum by (source) (rate(flowscope_relay_collector_lost_events_total${R}))`, legendFormat: 'reported to relay {{source}}' },
      ]),
    )
    .add(prom('Spool size', 'timeseries', 'bytes', [{ refId: 'A', expr: 'flowscope_relay_spool_bytes', legendFormat: '{{instance}}' }]))
    .add(
      prom('Kafka consumer lag', 'timeseries', 'none', [
        { refId: 'A', expr: 'sum by (topic, partition) (flowscope_kafka_consumer_lag)', legendFormat: '{{topic}}/{{partition}}' },
      ]),
    )
    .add(
      prom('Flow metric series (and refusals at the cap)', 'timeseries', 'none', [
        { refId: 'A', expr: 'sum by (metric) (flowscope_metrics_series)', legendFormat: '{{metric}}' },
        { refId: 'B', expr: `sum by (metric) (rate(flowscope_metrics_series_refused_total${R}))`, legendFormat: 'refused {{metric}}' },
      ]),
    );
  return dashboard(
    'flowscope-pipeline.json',
    'flowscope-pipeline',
    'flowscope / Pipeline health',
    'Collectors, relay, storage, spool and Kafka: is every flow getting stored?',
    g,
    [],
  );
}

export function buildDashboards(): Dashboard[] {
  return [overview(), drops(), dns(), talkers(), pipeline()];
}

/** The file content of a dashboard: stable, 2-space JSON. */
export function renderDashboard(d: Dashboard): string {
  return `${JSON.stringify(d.json, null, 2)}\n`;
}
