// Runs flowscope components as separate processes over loopback, the way an operator would.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitUntilServing } from '../api/client.js';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/flowscope.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Proc {
  proc: ChildProcess;
  output: () => string;
  stop(): Promise<number | null>;
}

/** Starts any long-running program with its output collected; stop() sends SIGTERM, then SIGKILL
 * after `killAfterMs`, and resolves with the exit code. */
export function spawnCollected(bin: string, args: string[], env: NodeJS.ProcessEnv = process.env, killAfterMs = 20_000): Proc {
  const proc = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => {
    out += d;
  });
  proc.stderr!.on('data', (d) => {
    out += d;
  });
  return {
    proc,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
        const t = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
        proc.once('exit', (code) => {
          clearTimeout(t);
          resolve(code);
        });
        proc.kill('SIGTERM');
      }),
  };
}

/** Starts a long-running flowscope command; output is collected for failure messages. */
export function startProc(args: string[], env: Record<string, string> = {}): Proc {
  // Metrics listeners on ephemeral ports unless a test asks for one: many processes share a machine.
  // A collector spills to a directory of its own (removed once it stopped) unless the test gives
  // --spill-dir: the default, under the working directory, would outlive the test and be replayed
  // by the next collector of the same node name.
  const spillDir =
    args[0] === 'collector' && !args.includes('--spill-dir') && env.FLOWSCOPE_SPILL_DIR === undefined
      ? fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-spill-'))
      : null;
  const p = spawnCollected(process.execPath, [BIN, ...args], {
    ...process.env,
    FLOWSCOPE_LOG_LEVEL: 'info',
    FLOWSCOPE_METRICS_ADDR: '127.0.0.1:0',
    ...(spillDir ? { FLOWSCOPE_SPILL_DIR: spillDir } : {}),
    ...env,
  });
  if (spillDir) p.proc.once('exit', () => fs.rmSync(spillDir, { recursive: true, force: true }));
  return p;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a flowscope command to completion. */
export function run(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, TZ: 'UTC' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    proc.stdout.on('data', (d) => {
      stdout += d;
    });
    proc.stderr.on('data', (d) => {
      stderr += d;
    });
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`timeout: flowscope ${args.join(' ')}\n${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    proc.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
    proc.stdin.end(opts.input ?? '');
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function waitHealthy(server: string, timeoutMs = 60_000): Promise<void> {
  return waitUntilServing(server, timeoutMs);
}

/** The value of a metric in a Prometheus text exposition (`labels` as written, e.g. `{reason="x"}`);
 * NaN when the series is not exported. */
export function metricValue(text: string, name: string, labels = ''): number {
  const series = `${name}${labels} `;
  const line = text.split('\n').find((l) => l.startsWith(series));
  return line === undefined ? NaN : Number(line.slice(series.length));
}

/** `flowscope relay` on a free loopback port over `dataDir`, inserting every 50 ms (tests want
 * their flows stored quickly), once it serves; a relay that does not come up fails with its output. */
export async function startTestRelay(dataDir: string, args: string[] = [], env: Record<string, string> = {}): Promise<{ server: string; relay: Proc }> {
  const server = `127.0.0.1:${await freePort()}`;
  const relay = startProc(['relay', '--listen', server, '--data-dir', dataDir, '--flush-interval', '50', ...args], env);
  await waitHealthy(server, 120_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${relay.output()}`);
  });
  return { server, relay };
}

/** `flowscope collector` shipping to `server`, its Observer API and /metrics on free loopback
 * ports; `scrape()` reads its metrics. `args` add to (or override) those. */
export async function startTestCollector(server: string, args: string[] = []): Promise<{ proc: Proc; metricsPort: number; scrape: () => Promise<string> }> {
  const metricsPort = await freePort();
  const proc = startProc(['collector', '--relay', server, '--listen', `127.0.0.1:${await freePort()}`, '--metrics-addr', `127.0.0.1:${metricsPort}`, ...args]);
  return { proc, metricsPort, scrape: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text() };
}

/** Runs a synthetic collector of `records` records (`--count`, 1,000/s unless `args` say
 * otherwise) into `server` until every record was read and the relay acknowledged its flows as
 * stored, then stops it. */
export async function shipSyntheticRecords(server: string, records: number, args: string[] = []): Promise<void> {
  const { proc: collector, scrape } = await startTestCollector(server, ['--rate', '1000', '--count', String(records), ...args]);
  try {
    await waitFor(
      `${records} records read and their flows stored`,
      async () => {
        const m = await scrape();
        return metricValue(m, 'flowscope_collector_records_read_total') === records &&
          metricValue(m, 'flowscope_collector_ship_queue_flows') === 0 &&
          metricValue(m, 'flowscope_collector_ship_flows_acked_total') >= records
          ? true
          : undefined;
      },
      180_000,
    );
  } finally {
    await collector.stop();
  }
}
