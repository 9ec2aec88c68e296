// `flowscope up` (what `npm start` runs): the whole pipeline on embedded defaults — relay with
// chDB, three synthetic collectors, the HTTP API — as separate processes, logs under the data
// directory, stopped together on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitUntilServing } from '../api/client.js';
import { COLLECTOR_ENV, COLLECTOR_NODE_FLAGS } from '../collector/heap.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/flowscope.js');

export interface UpOptions {
  dataDir: string;
  relayPort: number;
  apiPort: number;
  collectors: number;
  rate: number;
  host: string;
  /** Relay metrics on metricsPort+1, collector i on metricsPort+10+i. */
  metricsPort: number;
}

interface Child {
  name: string;
  proc: ChildProcess;
  log: string;
}

/** The last line of a child's log that the executable wrote as `Error: …`, without the prefix. */
export function lastErrorLine(logFile: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(logFile, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter((l) => l.startsWith('Error: '));
  return lines.length === 0 ? undefined : lines[lines.length - 1].slice('Error: '.length);
}

export async function runUp(opts: UpOptions): Promise<void> {
  const logDir = path.join(opts.dataDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const children: Child[] = [];
  let stopping = false;
  const start = (name: string, args: string[], nodeFlags: readonly string[] = [], env: Readonly<Record<string, string>> = {}): Child => {
    const log = path.join(logDir, `${name}.log`);
    const out = fs.openSync(log, 'a');
    const proc = spawn(process.execPath, [...nodeFlags, BIN, ...args], { stdio: ['ignore', out, out], env: { ...process.env, ...env } });
    fs.closeSync(out);
    const child = { name, proc, log };
    proc.on('exit', (code, signal) => {
      if (!stopping) {
        // The child said why on its last `Error:` line (a port in use, a data directory held by
        // another process): that line is what the user needs, the log path for the rest.
        const why = lastErrorLine(log);
        console.error(why ? `${name} could not run: ${why} (log: ${log})` : `${name} exited unexpectedly (code ${code}, signal ${signal}); see ${log}`);
        void shutdown(1);
      }
    });
    children.push(child);
    return child;
  };
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping flowscope…');
    // Collectors and the API first, so the relay can flush everything they sent.
    const order = [...children.filter((c) => c.name !== 'relay'), ...children.filter((c) => c.name === 'relay')];
    for (const c of order) {
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) continue;
      const exited = new Promise((r) => c.proc.once('exit', r));
      c.proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  const relayAddr = `${opts.host}:${opts.relayPort}`;
  const relayMetrics = `${opts.host}:${opts.metricsPort + 1}`;
  const collectorMetrics = Array.from({ length: opts.collectors }, (_, i) => `${opts.host}:${opts.metricsPort + 10 + i}`);
  start('relay', ['relay', '--listen', relayAddr, '--data-dir', path.join(opts.dataDir, 'chdb'), '--metrics-addr', relayMetrics]);
  await waitUntilServing(relayAddr, 60_000);
  for (let i = 0; i < opts.collectors; i++) {
    start(
      `collector-${i}`,
      [
        'collector',
        '--source',
        'synthetic',
        '--synthetic-node',
        String(i),
        '--rate',
        String(opts.rate),
        '--relay',
        relayAddr,
        '--listen',
        `${opts.host}:${opts.relayPort + 10 + i}`,
        '--metrics-addr',
        collectorMetrics[i],
        '--spill-dir',
        path.join(opts.dataDir, `collector-${i}`, 'spill'),
      ],
      COLLECTOR_NODE_FLAGS,
      COLLECTOR_ENV,
    );
  }
  const apiAddr = `${opts.host}:${opts.apiPort}`;
  start('api', ['api', '--listen', apiAddr, '--server', relayAddr]);
  await Promise.all(Array.from({ length: opts.collectors }, (_, i) => waitUntilServing(`${opts.host}:${opts.relayPort + 10 + i}`, 30_000)));

  const promConfig = writePrometheusConfig(opts.dataDir, relayMetrics, collectorMetrics);
  const cli = 'npx flowscope';
  const server = opts.relayPort === 4245 ? '' : ` --server ${relayAddr}`;
  console.log(`flowscope is running
  relay (Hubble Observer API + ingest)  grpc://${relayAddr}   storage: chDB in ${path.join(opts.dataDir, 'chdb')}
  collectors (synthetic, ${opts.rate} records/s each): ${Array.from({ length: opts.collectors }, (_, i) => `${opts.host}:${opts.relayPort + 10 + i}`).join(', ')}
  HTTP API                              http://${apiAddr}/api/v1/flows   docs: http://${apiAddr}/docs   OpenAPI: http://${apiAddr}/openapi.json
  metrics (Prometheus)                  relay http://${relayMetrics}/metrics   collectors ${collectorMetrics.map((a) => `http://${a}/metrics`).join(' ')}
                                        scrape config for them: ${promConfig}
  logs                                  ${logDir}

Try, in another terminal:
  ${cli} observe${server} --verdict DROPPED --type policy-verdict --since 5m      # policy denials of the last 5 minutes
  ${cli} observe${server} --namespace shop --verdict DROPPED -o table             # what is being dropped in namespace shop
  ${cli} observe${server} --protocol udp --port 53 --follow                       # live DNS traffic
  ${cli} status${server}        ${cli} list nodes${server}
  curl 'http://${apiAddr}/api/v1/flows?verdict=DROPPED&last=5'
  hubble observe --server ${relayAddr}                                          # the official hubble CLI works too

Ctrl-C stops everything.`);
  await new Promise(() => {});
}

/** A Prometheus configuration scraping this local pipeline with the alert rules of dashboards/alerts. */
function writePrometheusConfig(dataDir: string, relay: string, collectors: string[]): string {
  const rules = path.resolve(path.dirname(BIN), '../dashboards/alerts');
  const file = path.join(dataDir, 'prometheus.yml');
  fs.writeFileSync(
    file,
    `# Written by \`flowscope up\`: prometheus --config.file=${file}
global:
  scrape_interval: 15s
  evaluation_interval: 15s
rule_files:
  - ${rules}/*.yml
scrape_configs:
  - job_name: flowscope-relay
    static_configs:
      - targets: ['${relay}']
  - job_name: flowscope-collector
    static_configs:
      - targets: [${collectors.map((c) => `'${c}'`).join(', ')}]
`,
  );
  return file;
}
