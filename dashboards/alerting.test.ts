// End to end against real Prometheus and Alertmanager: relay + two collector processes export
// metrics, Prometheus scrapes them every second and evaluates dashboards/alerts (durations
// compressed 30×), Alertmanager posts to a webhook here. A synthetic policy-denied surge must
// fire FlowscopePolicyDeniedDropSurge (and not before the surge), and resolve once it stops.
// Then every PromQL expression of every dashboard and rule runs against that Prometheus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startProc, waitFor, waitHealthy, type Proc } from '../testing/harness.js';
import { requireTools, ruleFiles } from '../testing/prometheus-tools.js';
import {
  compressRuleDurations,
  promQuery,
  startDaemon,
  startWebhookReceiver,
  writeAlertmanagerConfig,
  writePrometheusConfig,
  type Daemon,
  type WebhookMessage,
  type WebhookReceiver,
} from '../testing/prometheus-harness.js';
import { buildDashboards } from './grafana/dashboards.js';

const ALERT = 'FlowscopePolicyDeniedDropSurge';
/** Metrics the test pipeline does not produce (no spool, no Kafka): their panels may be empty. */
const NOT_PRODUCED = /flowscope_relay_spool_|flowscope_kafka_consumer_lag/;

function panelExprs(): Array<{ where: string; expr: string; instant: boolean }> {
  const out: Array<{ where: string; expr: string; instant: boolean }> = [];
  for (const d of buildDashboards()) {
    const json = d.json as {
      panels: Array<{ title: string; targets: Array<{ expr?: string; instant?: boolean; refId: string }> }>;
      templating: { list: Array<{ name: string; type: string; definition?: string; datasource?: { type: string } }> };
    };
    for (const p of json.panels)
      for (const t of p.targets) if (t.expr) out.push({ where: `${d.file} "${p.title}" ${t.refId}`, expr: t.expr, instant: t.instant === true });
    for (const v of json.templating.list)
      if (v.type === 'query' && v.datasource?.type === 'prometheus') out.push({ where: `${d.file} variable ${v.name}`, expr: v.definition!, instant: true });
  }
  return out;
}

/** Grafana's variables as Grafana would expand them with "All" selected. */
function expandGrafana(expr: string): string {
  return expr.replaceAll('$__rate_interval', '15s').replaceAll('$__interval', '5s').replaceAll('$__range', '1m').replaceAll('"$namespace"', '".*"');
}

/** `label_values(metric, label)` is a Grafana function: Prometheus answers it as series of the metric. */
function variableQuery(expr: string): string {
  const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(expr);
  return m ? `count by (${m[2]}) (${m[1]})` : expr;
}

function ruleExprs(): Array<{ where: string; expr: string; recording: boolean }> {
  const out: Array<{ where: string; expr: string; recording: boolean }> = [];
  for (const f of ruleFiles()) {
    const text = fs.readFileSync(f, 'utf8');
    // Our rule files keep `expr:` either on one line or as a `|` block.
    const re = /^(\s+)(?:- )?(alert|record): (\S+)\n(?:\1  .*\n)*?\1  expr: (?:\|\n((?:\1    .*\n)+)|(.*)\n)/gm;
    for (const m of text.matchAll(re)) out.push({ where: `${path.basename(f)} ${m[3]}`, expr: (m[4] ?? m[5]).trim(), recording: m[2] === 'record' });
  }
  return out;
}

const firingOf = (msgs: WebhookMessage[], status: string) =>
  msgs.find((m) => m.groupLabels.alertname === ALERT && m.status === status && m.alerts.some((a) => a.labels.alertname === ALERT));

test('policy-denied surge: Alertmanager webhook gets firing then resolved; every dashboard and rule query runs', { timeout: 180_000 }, async (t) => {
  const tools = requireTools(t, { prometheus: ['prometheus'], alertmanager: ['prometheus-alertmanager', 'alertmanager'] });
  if (!tools) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-alerting-'));
  const procs: Proc[] = [];
  const daemons: Daemon[] = [];
  let webhook: WebhookReceiver | null = null;
  const logs = () => [...daemons.map((d) => d.output().slice(-3000)), ...procs.map((p) => p.output().slice(-2000))].join('\n----\n');
  try {
    // Rules, compressed.
    const rulesDir = path.join(dir, 'rules');
    fs.mkdirSync(rulesDir);
    for (const f of ruleFiles()) fs.writeFileSync(path.join(rulesDir, path.basename(f)), compressRuleDurations(fs.readFileSync(f, 'utf8'), 30));

    const [relayPort, relayMetrics, aPort, aMetrics, bPort, bMetrics, promPort, amPort] = await Promise.all(Array.from({ length: 8 }, () => freePort()));
    webhook = await startWebhookReceiver();
    daemons.push(
      startDaemon(tools.alertmanager, [
        `--config.file=${writeAlertmanagerConfig(dir, webhook.url)}`,
        `--storage.path=${path.join(dir, 'am')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ]),
    );
    const promConfig = writePrometheusConfig(dir, {
      ruleGlob: path.join(rulesDir, '*.yml'),
      alertmanager: `127.0.0.1:${amPort}`,
      relay: [`127.0.0.1:${relayMetrics}`],
      collectors: [`127.0.0.1:${aMetrics}`, `127.0.0.1:${bMetrics}`],
    });
    daemons.push(
      startDaemon(tools.prometheus, [
        `--config.file=${promConfig}`,
        `--storage.tsdb.path=${path.join(dir, 'prom')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--rules.alert.resend-delay=1s',
        '--log.level=warn',
      ]),
    );
    const prom = `http://127.0.0.1:${promPort}`;

    const relayAddr = `127.0.0.1:${relayPort}`;
    const relay = startProc([
      'relay',
      '--listen',
      relayAddr,
      '--data-dir',
      path.join(dir, 'chdb'),
      '--metrics-addr',
      `127.0.0.1:${relayMetrics}`,
      '--flush-interval',
      '100',
    ]);
    procs.push(relay);
    await waitHealthy(relayAddr);
    const collector = (node: string, port: number, metrics: number, extra: string[]) =>
      startProc([
        'collector',
        '--source',
        'synthetic',
        '--synthetic-node',
        node,
        '--relay',
        relayAddr,
        '--listen',
        `127.0.0.1:${port}`,
        '--metrics-addr',
        `127.0.0.1:${metrics}`,
        ...extra,
      ]);
    procs.push(collector('0', aPort, aMetrics, ['--rate', '200']));

    await waitFor(
      'Prometheus and Alertmanager ready',
      async () => {
        const [p, a] = await Promise.all([fetch(`${prom}/-/ready`), fetch(`http://127.0.0.1:${amPort}/-/ready`)]);
        return p.ok && a.ok ? true : undefined;
      },
      30_000,
    );
    // Baseline: the first collector's ordinary traffic, scraped, with the hour-before baseline
    // (compressed: 2 min window, 10 s ago) of its policy denials in place.
    await waitFor(
      'baseline of policy denials recorded',
      async () => {
        const r = await promQuery(prom, 'flowscope:hubble_policy_denied:rate1h offset 10s');
        return r.length > 0 ? true : undefined;
      },
      40_000,
    );
    const baseline = await promQuery(prom, 'max(flowscope:hubble_policy_denied:rate5m)');
    assert.ok(Number(baseline[0]?.value?.[1] ?? 0) < 2, `baseline stays under the alert threshold: ${JSON.stringify(baseline)}`);
    assert.equal(firingOf(webhook.messages, 'firing'), undefined, 'no surge alert before the surge');

    // The surge: a second node with 200x the policy-denied traffic.
    const surgeStart = Date.now();
    const surge = collector('1', bPort, bMetrics, ['--rate', '300', '--policy-deny-surge', '200']);
    procs.push(surge);
    const fired = await waitFor('firing notification', async () => firingOf(webhook!.messages, 'firing'), 60_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${logs()}`);
    });
    const a = fired.alerts.find((x) => x.labels.alertname === ALERT && x.status === 'firing')!;
    assert.equal(a.labels.severity, 'warning');
    assert.match(a.annotations.description, /^\d+(\.\d+)? policy-denied drops\/s from \S+ to \S+ over 5m/);
    assert.equal(a.annotations.runbook, 'docs/runbook.md#flowscopepolicydenieddropsurge');
    t.diagnostic(`firing ${((fired.receivedMs - surgeStart) / 1000).toFixed(1)} s after the surge started: ${a.annotations.description}`);

    // The surge stops: the surging collector goes away.
    const stopAt = Date.now();
    assert.equal(await surge.stop(), 0);
    const resolved = await waitFor(
      'resolved notification',
      async () => webhook!.messages.find((m) => m.receivedMs >= stopAt && m.groupLabels.alertname === ALERT && m.status === 'resolved'),
      60_000,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\n${logs()}`);
    });
    assert.ok(resolved.alerts.every((x) => x.status === 'resolved'));
    t.diagnostic(`resolved ${((resolved.receivedMs - stopAt) / 1000).toFixed(1)} s after the surge stopped`);

    // Every rule loaded and evaluated without error.
    const rules = (await (await fetch(`${prom}/api/v1/rules`)).json()) as {
      data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> };
    };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    assert.ok(loaded.length >= 26, `${loaded.length} rules loaded`);
    for (const r of loaded) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);

    // Every PromQL expression of the rule files (uncompressed) and of the dashboards.
    // Alert expressions are empty unless firing; recording rules have data from this pipeline.
    for (const r of ruleExprs()) {
      const result = await promQuery(prom, r.expr).catch((err) => {
        throw new Error(`${r.where}: ${(err as Error).message}`);
      });
      if (r.recording) assert.ok(result.length > 0, `${r.where} has data`);
    }
    assert.ok(ruleExprs().length >= 26, `${ruleExprs().length} rule expressions checked`);
    const end = Date.now() / 1000;
    let withData = 0;
    for (const p of panelExprs()) {
      const expr = variableQuery(expandGrafana(p.expr));
      const result = await promQuery(prom, expr, p.instant ? undefined : { start: end - 30, end, step: 1 }).catch((err) => {
        throw new Error(`${p.where}: ${(err as Error).message}`);
      });
      if (NOT_PRODUCED.test(expr)) continue;
      assert.ok(result.length > 0, `${p.where} returns data: ${expr}`);
      withData++;
    }
    t.diagnostic(`${withData} dashboard queries returned data`);
    assert.ok(withData >= 40);
  } finally {
    for (const p of procs.reverse()) await p.stop();
    for (const d of daemons) await d.stop();
    await webhook?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
