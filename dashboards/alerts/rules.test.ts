// The Prometheus rule files: valid for promtool, unit-tested (every alert firing and silent),
// every alert carrying severity, summary, a description with its value, and a runbook section.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { alertRules, REPO, requireTools, ruleFiles, ruleTestFiles, runTool } from '../../testing/prometheus-tools.js';

test('promtool check rules accepts every rule file', (t) => {
  const tools = requireTools(t, { promtool: ['promtool'] });
  if (!tools) return;
  const files = ruleFiles();
  assert.ok(files.length >= 3);
  for (const f of files) {
    const r = runTool(tools.promtool, ['check', 'rules', f]);
    assert.equal(r.code, 0, `${path.basename(f)}:\n${r.output}`);
    assert.match(r.output, /SUCCESS: \d+ rules found/);
  }
});

test('promtool test rules: the unit tests pass', (t) => {
  const tools = requireTools(t, { promtool: ['promtool'] });
  if (!tools) return;
  const r = runTool(tools.promtool, ['test', 'rules', ...ruleTestFiles()]);
  assert.equal(r.code, 0, r.output);
  assert.doesNotMatch(r.output, /FAILED/);
});

test('every alert is unit-tested firing and staying silent', () => {
  const fired = new Set<string>();
  const silent = new Set<string>();
  for (const f of ruleTestFiles()) {
    const lines = fs.readFileSync(f, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /alertname: (\S+)/.exec(lines[i]);
      if (!m) continue;
      const next = lines[i + 1] ?? '';
      if (/exp_alerts: \[\]/.test(next)) silent.add(m[1]);
      else if (/exp_alerts:\s*$/.test(next) && /exp_labels/.test(lines[i + 2] ?? '')) fired.add(m[1]);
    }
  }
  const names = alertRules().map((a) => a.name);
  assert.ok(names.length >= 11, `${names.length} alerts`);
  for (const n of names) {
    assert.ok(fired.has(n), `${n} has a firing test`);
    assert.ok(silent.has(n), `${n} has a silent test`);
  }
});

test('every alert has severity, summary, description with its value, and a runbook section', () => {
  const runbook = fs.readFileSync(path.join(REPO, 'docs/runbook.md'), 'utf8');
  const anchors = new Set([...runbook.matchAll(/^## (\S+)/gm)].map((m) => m[1].toLowerCase()));
  const seen = new Set<string>();
  for (const a of alertRules()) {
    assert.ok(!seen.has(a.name), `${a.name} defined once`);
    seen.add(a.name);
    assert.match(a.block, /\n\s+severity: (critical|warning|info)\n/, `${a.name} severity`);
    assert.match(a.block, /\n\s+summary: ".+"/, `${a.name} summary`);
    assert.match(a.block, /\n\s+description: ".*\{\{ \$value[^}]*\}\}.*"/, `${a.name} description shows $value`);
    const rb = /\n\s+runbook: "docs\/runbook\.md#([a-z0-9-]+)"/.exec(a.block);
    assert.ok(rb, `${a.name} runbook`);
    assert.equal(rb[1], a.name.toLowerCase(), `${a.name} runbook anchor`);
    assert.ok(anchors.has(rb[1]), `docs/runbook.md has a section for ${a.name}`);
  }
  for (const required of [
    'FlowscopePolicyDeniedDropSurge',
    'FlowscopeDropRateHigh',
    'FlowscopeDNSServerErrors',
    'FlowscopeFlowsToWorldSurge',
    'FlowscopeLostEvents',
    'FlowscopeCollectorDown',
    'FlowscopeRelayUnreachable',
    'FlowscopeIngestLagHigh',
    'FlowscopeStorageInsertFailures',
    'FlowscopeSpoolGrowing',
    'FlowscopeKafkaConsumerLagHigh',
  ]) {
    assert.ok(seen.has(required), `alert ${required} exists`);
  }
});
