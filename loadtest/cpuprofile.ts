// Summarises a V8 .cpuprofile (written by `node --cpu-prof`) into self time per function and per
// file, so the benchmark can report where a process spends its CPU without a profiler UI.
// Run alone: node dist-test/loadtest/cpuprofile.js FILE.cpuprofile [top]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface HotSpot {
  name: string;
  selfMs: number;
  selfPct: number;
}
export interface ProfileSummary {
  totalMs: number;
  idlePct: number;
  functions: HotSpot[];
  files: HotSpot[];
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Shortens file:// URLs to repository-relative paths (dist/… → source-like names) and node internals. */
function shortUrl(url: string): string {
  if (url === '') return '(native)';
  let p = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (p.startsWith(ROOT + path.sep)) p = p.slice(ROOT.length + 1);
  return p.replace(/^dist\//, '').replace(/^node_modules\//, '');
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of prof.nodes) byId.set(n.id, n);
  // Self time: each sample is charged the delta to the next one (V8 records the delta before a
  // sample, so sample i lasts timeDeltas[i + 1]).
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000;
    const node = byId.get(prof.samples[i]);
    if (!node) continue;
    total += dt;
    const cf = node.callFrame;
    if (cf.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    const loc = shortUrl(cf.url);
    const key = `${cf.functionName || '(anonymous)'} ${loc}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + dt);
    files.set(loc, (files.get(loc) ?? 0) + dt);
  }
  const rank = (m: Map<string, number>): HotSpot[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, selfMs: Math.round(ms), selfPct: Math.round((ms / total) * 1000) / 10 }));
  return { totalMs: Math.round(total), idlePct: Math.round((idle / total) * 1000) / 10, functions: rank(fn), files: rank(files) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const s = summarizeProfile(process.argv[2], Number(process.argv[3] ?? 20));
  console.log(`total ${s.totalMs} ms, idle ${s.idlePct}%`);
  for (const h of s.functions) console.log(`${String(h.selfPct).padStart(5)}%  ${h.name}`);
  console.log('by file:');
  for (const h of s.files) console.log(`${String(h.selfPct).padStart(5)}%  ${h.name}`);
}
