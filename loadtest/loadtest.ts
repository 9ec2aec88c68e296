// `npm run loadtest -- --nodes 4 --rate 200000 --duration 60`: one load-test run (loadtest/run.ts)
// with a Markdown report on stdout, or one JSON object with --json; --out also writes the
// Markdown report to a file. Progress goes to stderr. Bad flags exit 2 with the usage.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { runLoadtest, type LoadtestOptions } from './run.js';
import { reportMarkdown } from './report.js';
import { DEFAULT_BATCHER_OPTIONS } from '../relay/ingest/batcher.js';

function int(name: string, min: number, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`--${name} expects an integer, got "${v}"`);
    const x = Number(v);
    if (x < min || x > max) throw new InvalidArgumentError(`--${name} must be between ${min} and ${max}`);
    return x;
  };
}

export function buildCommand(): Command {
  return new Command('loadtest')
    .description(
      'Run synthetic collectors against a relay with embedded ClickHouse and report throughput, loss per stage, latency, CPU/RSS and bytes per flow.',
    )
    .option('--nodes <n>', 'collector processes', int('nodes', 1, 64), 2)
    .option('--rate <records/s>', 'total records/s offered, split evenly over the collectors', int('rate', 1, 10_000_000), 10_000)
    .option('--duration <s>', 'measured seconds', int('duration', 1, 86_400), 20)
    .option('--warmup <s>', 'seconds after every collector connected before the window opens', int('warmup', 0, 3_600), 3)
    .option('--batch <rows>', "rows per storage insert (the relay's --batch-rows)", int('batch', 1, 10_000_000), 50_000)
    .option(
      '--flush-interval <ms>',
      "longest a flow waits for its storage insert (the relay's --flush-interval)",
      int('flush-interval', 1, 60_000),
      DEFAULT_BATCHER_OPTIONS.flushIntervalMs,
    )
    .option('--drain-timeout <s>', 'seconds collectors may take to get their backlog acknowledged at the end', int('drain-timeout', 0, 3_600), 30)
    .option('--probe-interval <ms>', 'period of the queryable probe; 0 turns it off (to see what it costs)', int('probe-interval', 0, 60_000), 250)
    .option('--no-spill', 'collectors keep their backlog in memory only (`--spill-dir none`); by default they spill to disk as `flowscope collector` does')
    .option(
      '--collector-node-flags <flags>',
      'node flags for the collector processes, space-separated, after the shipped ones (collector/heap.ts), which they override (e.g. "--max-semi-space-size=16")',
    )
    .option('--json', 'print one JSON object instead of Markdown')
    .option('--out <file>', 'also write the Markdown report to this file')
    .option('--keep', 'keep the chDB data directory (its path is in the report) and, with --profile, the .cpuprofile files')
    .option('--profile', 'write a V8 CPU profile of every process and report the top functions')
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .allowExcessArguments(false);
}

const USAGE_EXIT = 2;

async function main(argv: string[]): Promise<number> {
  const cmd = buildCommand();
  try {
    cmd.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError && (err.code === 'commander.helpDisplayed' || err.code === 'commander.help')) return 0;
    process.stderr.write(`Error: ${(err as Error).message.replace(/^error: /, '')}\n\n${cmd.helpInformation()}`);
    return USAGE_EXIT;
  }
  const o = cmd.opts<{
    nodes: number;
    rate: number;
    duration: number;
    warmup: number;
    batch: number;
    flushInterval: number;
    drainTimeout: number;
    probeInterval: number;
    spill: boolean;
    collectorNodeFlags?: string;
    json?: boolean;
    out?: string;
    keep?: boolean;
    profile?: boolean;
  }>();
  if (o.rate < o.nodes) {
    process.stderr.write(`Error: --rate (${o.rate}) must be at least --nodes (${o.nodes})\n\n${cmd.helpInformation()}`);
    return USAGE_EXIT;
  }
  const profileDir = o.profile ? await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-prof-')) : undefined;
  const opts: LoadtestOptions = {
    nodes: o.nodes,
    rate: o.rate,
    durationS: o.duration,
    warmupS: o.warmup,
    batchRows: o.batch,
    flushIntervalMs: o.flushInterval,
    drainTimeoutMs: o.drainTimeout * 1000,
    probeIntervalMs: o.probeInterval,
    spill: o.spill,
    collectorNodeFlags: o.collectorNodeFlags?.split(/\s+/).filter(Boolean),
    keep: o.keep,
    profileDir,
    log: (m) => process.stderr.write(`[loadtest] ${m}\n`),
  };
  try {
    const report = await runLoadtest(opts);
    const md = reportMarkdown(report);
    if (o.out) await fs.writeFile(o.out, md);
    process.stdout.write(o.json ? JSON.stringify(report) + '\n' : md);
    return 0;
  } finally {
    if (profileDir && o.keep) process.stderr.write(`[loadtest] CPU profiles kept in ${profileDir}\n`);
    else if (profileDir) await fs.rm(profileDir, { recursive: true, force: true });
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`loadtest failed: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  },
);
