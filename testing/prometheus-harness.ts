// Real Prometheus and Alertmanager for the alerting end-to-end test: temp dirs, loopback ports,
// 1 s scrape and evaluation, and a webhook receiver recording what Alertmanager sends.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { spawnCollected } from './harness.js';

/**
 * Rule files with every duration divided by `factor` (at least 2 s): ranges `[5m]`, `offset 5m`
 * and `for: 2m`. Rates and ratios keep their meaning, so a test can watch an alert go through
 * pending, firing and resolved in seconds instead of minutes.
 */
export function compressRuleDurations(text: string, factor: number): string {
  const secs = (n: string, unit: string) => Number(n) * ({ s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[unit];
  const scaled = (n: string, unit: string) => `${Math.max(2, Math.round(secs(n, unit) / factor))}s`;
  return text
    .replace(/\[(\d+)([smhd])\]/g, (_, n: string, u: string) => `[${scaled(n, u)}]`)
    .replace(/offset (\d+)([smhd])\b/g, (_, n: string, u: string) => `offset ${scaled(n, u)}`)
    .replace(/^(\s+for: )(\d+)([smhd])\s*$/gm, (_, p: string, n: string, u: string) => `${p}${scaled(n, u)}`);
}

export interface Daemon {
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export function startDaemon(bin: string, args: string[]): Daemon {
  const p = spawnCollected(bin, args, process.env, 10_000);
  return {
    proc: p.proc,
    output: p.output,
    stop: async () => {
      await p.stop();
    },
  };
}

export interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface WebhookMessage {
  status: string;
  receivedMs: number;
  alerts: WebhookAlert[];
  groupLabels: Record<string, string>;
}

export interface WebhookReceiver {
  url: string;
  messages: WebhookMessage[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const messages: WebhookMessage[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      try {
        messages.push({ ...(JSON.parse(body) as Omit<WebhookMessage, 'receivedMs'>), receivedMs: Date.now() });
      } catch {
        /* not JSON: ignored */
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    messages,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function writeAlertmanagerConfig(dir: string, webhookUrl: string): string {
  const file = path.join(dir, 'alertmanager.yml');
  fs.writeFileSync(
    file,
    `route:
  receiver: test
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: ${webhookUrl}
        send_resolved: true
`,
  );
  return file;
}

export function writePrometheusConfig(dir: string, o: { ruleGlob: string; alertmanager: string; relay: string[]; collectors: string[] }): string {
  const file = path.join(dir, 'prometheus.yml');
  const list = (xs: string[]) => xs.map((x) => `'${x}'`).join(', ');
  fs.writeFileSync(
    file,
    `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - ${o.ruleGlob}
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['${o.alertmanager}']
scrape_configs:
  - job_name: flowscope-relay
    static_configs:
      - targets: [${list(o.relay)}]
  - job_name: flowscope-collector
    static_configs:
      - targets: [${list(o.collectors)}]
`,
  );
  return file;
}

export interface PromResult {
  metric: Record<string, string>;
  value?: [number, string];
  values?: Array<[number, string]>;
}

/** Runs a PromQL query through the HTTP API; throws with Prometheus' error message. */
export async function promQuery(base: string, expr: string, range?: { start: number; end: number; step: number }): Promise<PromResult[]> {
  const params = new URLSearchParams({ query: expr });
  if (range) {
    params.set('start', String(range.start));
    params.set('end', String(range.end));
    params.set('step', String(range.step));
  }
  const res = await fetch(`${base}/api/v1/${range ? 'query_range' : 'query'}`, { method: 'POST', body: params });
  const body = (await res.json()) as { status: string; error?: string; data?: { result: PromResult[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? res.status}`);
  return body.data!.result;
}
