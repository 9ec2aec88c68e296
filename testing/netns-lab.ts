// A two-namespace network lab for the real-kernel tests: uniquely named namespaces joined by a
// veth pair with 10.x addresses that exist only inside them, so test traffic never leaves them.
// Everything created is removed by `destroy()` (also after a failed step).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface Lab {
  nsA: string;
  nsB: string;
  ipA: string;
  ipB: string;
  /** Runs a command inside a namespace and returns its stdout. */
  exec(ns: string, cmd: string[], input?: string): string;
  /** Starts a long-running command inside a namespace; killed by destroy(). */
  spawn(ns: string, cmd: string[]): ChildProcess;
  destroy(): void;
}

function run(cmd: string[], input?: string): string {
  return execFileSync(cmd[0], cmd.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000 });
}

export function createLab(): Lab {
  const id = randomBytes(3).toString('hex');
  const nsA = `fsA-${id}`,
    nsB = `fsB-${id}`;
  const vA = `fva${id}`,
    vB = `fvb${id}`; // ≤ 15 characters
  // A /30 in 10.200.0.0/16 picked at random so parallel runs do not collide (the namespaces isolate them anyway).
  const n = randomBytes(2);
  const base = `10.200.${n[0]}.${(n[1] & 0x3f) * 4}`;
  const octets = base.split('.').map(Number);
  const ipA = `${octets[0]}.${octets[1]}.${octets[2]}.${octets[3] + 1}`;
  const ipB = `${octets[0]}.${octets[1]}.${octets[2]}.${octets[3] + 2}`;
  const children: ChildProcess[] = [];
  const destroy = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const ns of [nsA, nsB]) {
      try {
        run(['ip', 'netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
  };
  try {
    run(['ip', 'netns', 'add', nsA]);
    run(['ip', 'netns', 'add', nsB]);
    run(['ip', 'link', 'add', vA, 'netns', nsA, 'type', 'veth', 'peer', 'name', vB, 'netns', nsB]);
    run(['ip', '-n', nsA, 'addr', 'add', `${ipA}/30`, 'dev', vA]);
    run(['ip', '-n', nsB, 'addr', 'add', `${ipB}/30`, 'dev', vB]);
    for (const [ns, dev] of [
      [nsA, vA],
      [nsB, vB],
    ]) {
      run(['ip', '-n', ns, 'link', 'set', dev, 'up']);
      run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
  } catch (err) {
    destroy();
    throw err;
  }
  return {
    nsA,
    nsB,
    ipA,
    ipB,
    exec: (ns, cmd, input) => run(['ip', 'netns', 'exec', ns, ...cmd], input),
    spawn: (ns, cmd) => {
      const c = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(c);
      return c;
    },
    destroy,
  };
}

/** Resolves with the first stdout line of a child (e.g. "listening"), rejects if it exits first. */
export function firstLine(c: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    c.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    c.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) resolve(buf.slice(0, i));
    });
    c.on('exit', (code) => reject(new Error(`process exited (${code}) before its first line: ${err.trim()}`)));
  });
}

export function toolMissing(tools: string[]): string | null {
  for (const t of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore', env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
    } catch {
      return `${t} is not installed`;
    }
  }
  return null;
}
