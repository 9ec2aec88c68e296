// `npm start` runs `flowscope up`: the whole pipeline on embedded defaults must come up, show
// live synthetic traffic through the relay, the CLI and the HTTP API, and stop cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startProc, run, waitFor } from '../../testing/harness.js';

test('flowscope up: relay + chDB + synthetic collectors + HTTP API, live data, clean stop', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-up-'));
  const relayPort = await freePort();
  const apiPort = await freePort();
  const metricsPort = await freePort();
  const up = startProc([
    'up',
    '--data-dir',
    dir,
    '--relay-port',
    String(relayPort),
    '--api-port',
    String(apiPort),
    '--collectors',
    '2',
    '--rate',
    '200',
    '--metrics-port',
    String(metricsPort),
  ]);
  const server = `127.0.0.1:${relayPort}`;
  try {
    await waitFor('up to print its banner', async () => (up.output().includes('flowscope is running') ? true : undefined), 90_000);
    assert.match(up.output(), /observe .*--since 5m/);
    // Under load one collector's newest batch can trail the other's by more than the 50 newest
    // flows span: wait until the newest flows hold both nodes rather than sampling once.
    const flows = await waitFor(
      'synthetic flows of both collectors stored',
      async () => {
        const r = await run(['observe', '--server', server, '--last', '50', '-o', 'jsonpb']);
        const lines = r.stdout.split('\n').filter((l) => l.startsWith('{"flow"'));
        const fl = lines.map((l) => JSON.parse(l).flow as { node_name: string });
        return lines.length === 50 && new Set(fl.map((f) => f.node_name)).size === 2 ? fl : undefined;
      },
      60_000,
    );
    assert.equal(new Set(flows.map((f) => f.node_name)).size, 2, 'flows from both collectors');
    const denials = await run(['observe', '--server', server, '--verdict', 'DROPPED', '--since', '5m', '-o', 'compact']);
    assert.equal(denials.code, 0, denials.stderr);
    const status = await run(['status', '--server', server]);
    assert.match(status.stdout, /Connected Nodes: 2\/2/);
    // Metrics: the relay on base+1, collector i on base+10+i, and a scrape config for them.
    const relayMetrics = await (await fetch(`http://127.0.0.1:${metricsPort + 1}/metrics`)).text();
    assert.match(relayMetrics, /^flowscope_relay_connected_collectors 2$/m);
    const collectorMetrics = await (await fetch(`http://127.0.0.1:${metricsPort + 11}/metrics`)).text();
    assert.match(collectorMetrics, /^hubble_flows_processed_total\{/m);
    assert.match(
      fs.readFileSync(path.join(dir, 'prometheus.yml'), 'utf8'),
      new RegExp(`targets: \\['127\\.0\\.0\\.1:${metricsPort + 10}', '127\\.0\\.0\\.1:${metricsPort + 11}'\\]`),
    );
    const res = await fetch(`http://127.0.0.1:${apiPort}/api/v1/flows?last=3`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { flows: unknown[] }).flows.length, 3);
  } finally {
    const code = await up.stop();
    assert.equal(code, 0, `up exits 0 on SIGTERM\n${up.output().slice(-2000)}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
