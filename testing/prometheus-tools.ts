// Locating the Prometheus tools the rule and alerting tests run (scripts/install-prometheus.sh
// installs them). Under CI=true a missing tool fails the test; elsewhere the test is skipped
// with the reason.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ALERTS_DIR = path.join(REPO, 'dashboards/alerts');

/** Absolute path of the first of `names` found on PATH, else null. */
export function findTool(...names: string[]): string | null {
  for (const name of names) {
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      const p = path.join(dir, name);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      } catch {
        /* next */
      }
    }
  }
  return null;
}

/** The tools, or null after skipping the test (failing it under CI=true). */
export function requireTools<T extends Record<string, string[]>>(t: TestContext, wanted: T): { [K in keyof T]: string } | null {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const [key, names] of Object.entries(wanted)) {
    const p = findTool(...names);
    if (p) found[key] = p;
    else missing.push(names.join(' or '));
  }
  if (missing.length === 0) return found as { [K in keyof T]: string };
  const msg = `missing ${missing.join(', ')}: run scripts/install-prometheus.sh`;
  if (process.env.CI === 'true') throw new Error(msg);
  t.skip(msg);
  return null;
}

export function ruleFiles(): string[] {
  return fs
    .readdirSync(ALERTS_DIR)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => path.join(ALERTS_DIR, f));
}

export function ruleTestFiles(): string[] {
  const dir = path.join(ALERTS_DIR, 'tests');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Runs a tool; resolves with exit code and output (never throws on a non-zero exit). */
export function runTool(bin: string, args: string[]): { code: number; output: string } {
  try {
    return { code: 0, output: execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    return { code: e.status ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

export interface AlertRuleText {
  name: string;
  file: string;
  block: string;
}

/** The alerting rules of our rule files, each with its YAML block (our files' fixed layout). */
export function alertRules(): AlertRuleText[] {
  const out: AlertRuleText[] = [];
  for (const file of ruleFiles()) {
    const text = fs.readFileSync(file, 'utf8');
    const parts = text.split(/^(?=\s+- (?:alert|record): )/m).slice(1);
    for (const block of parts) {
      const m = /^\s+- alert: (\S+)/.exec(block);
      if (m) out.push({ name: m[1], file, block });
    }
  }
  return out;
}
