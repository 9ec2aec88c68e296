// Child processes of a load test or benchmark: every one is registered so that a failure or
// Ctrl-C still stops it, and only the tail of its output is kept (enough to explain a failure
// without holding a run's logs in memory). Lines that parse as JSON objects with a `kind` field
// are handed to the caller: that is how the wrapper processes report their counters.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  tail(): string;
  exited: Promise<number | null>;
}

export class ChildSet {
  private readonly children = new Set<Child>();

  spawnNode(
    name: string,
    nodeArgs: string[],
    onMessage?: (msg: { kind: string } & Record<string, unknown>) => void,
    env: Readonly<Record<string, string>> = {},
  ): Child {
    const proc = spawn(process.execPath, nodeArgs, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env, FLOWSCOPE_LOG_LEVEL: process.env.FLOWSCOPE_LOG_LEVEL ?? 'warn' },
    });
    if (proc.pid === undefined) throw new Error(`could not start ${name}`);
    let tail = '';
    let partial = '';
    const keep = (d: Buffer) => {
      tail = (tail + d.toString()).slice(-8192);
    };
    proc.stdout!.on('data', (d: Buffer) => {
      keep(d);
      if (!onMessage) return;
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        if (!l.startsWith('{"kind":')) continue; // a log line, not a message
        try {
          onMessage(JSON.parse(l));
        } catch {
          /* a truncated line: ignore */
        }
      }
    });
    proc.stderr!.on('data', keep);
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const child: Child = { name, proc, pid: proc.pid, tail: () => tail, exited };
    this.children.add(child);
    void exited.then(() => this.children.delete(child));
    return child;
  }

  /** SIGTERM, then SIGKILL if the process has not exited after `graceMs`. */
  async stop(c: Child, graceMs = 20_000): Promise<number | null> {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) return c.proc.exitCode;
    c.proc.kill('SIGTERM');
    const t = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
    const code = await c.exited;
    clearTimeout(t);
    return code;
  }

  async stopAll(graceMs = 5_000): Promise<void> {
    await Promise.all([...this.children].map((c) => this.stop(c, graceMs)));
  }
}
