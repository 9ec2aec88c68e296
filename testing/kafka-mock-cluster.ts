// Test support: librdkafka's mock Kafka cluster, compiled from testdata/mock-kafka.c on first
// use (gcc + Debian librdkafka-dev, installed by scripts/install-kafka-test-deps.sh) into a
// temporary directory, run as a child process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SOURCE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../relay/kafka/testdata/mock-kafka.c');

/** Builds the launcher; returns its path, or why it cannot be built. */
export function buildMockKafka(): { bin: string } | { missing: string } {
  if (!fs.existsSync('/usr/include/librdkafka/rdkafka_mock.h'))
    return { missing: 'librdkafka-dev (rdkafka_mock.h) is not installed: run scripts/install-kafka-test-deps.sh' };
  const src = fs.readFileSync(SOURCE);
  const bin = path.join(os.tmpdir(), `flowscope-mock-kafka-${createHash('sha256').update(src).digest('hex').slice(0, 12)}`);
  if (fs.existsSync(bin)) return { bin };
  const tmp = `${bin}.${process.pid}`;
  const r = spawnSync('gcc', ['-O1', '-o', tmp, SOURCE, '-lrdkafka'], { encoding: 'utf8' });
  if (r.error) return { missing: `gcc: ${r.error.message}` };
  if (r.status !== 0) return { missing: `gcc failed: ${r.stderr}` };
  fs.renameSync(tmp, bin);
  return { bin };
}

export class MockKafka {
  private readonly replies: Array<(line: string) => void> = [];
  private constructor(
    private readonly proc: ChildProcess,
    readonly bootstrap: string,
  ) {}

  /** Starts a cluster with the given topics ({ name: partitions }). */
  static async start(bin: string, brokers: number, topics: Record<string, number>): Promise<MockKafka> {
    const args = [String(brokers), ...Object.entries(topics).flatMap(([t, p]) => [t, String(p)])];
    const proc = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d) => {
      stderr += d;
    });
    const lines = createInterface({ input: proc.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      proc.once('exit', (code) => reject(new Error(`mock-kafka exited with ${code}: ${stderr}`)));
    });
    const mock = new MockKafka(proc, first.trim());
    lines.on('line', (l) => mock.replies.shift()?.(l));
    return mock;
  }

  get brokers(): string[] {
    return this.bootstrap.split(',');
  }

  /** Takes a broker (1-based id) down or up. */
  async setBroker(id: number, state: 'up' | 'down'): Promise<void> {
    const reply = new Promise<string>((r) => this.replies.push(r));
    this.proc.stdin!.write(`${state} ${id}\n`);
    const got = await reply;
    if (got !== 'ok') throw new Error(`mock-kafka ${state} ${id}: ${got}`);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.stdin!.end();
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}
