import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gauge, Registry, register } from 'prom-client';
import { createLogger } from '../logger.js';
import { parseListenAddress, startMetricsServer } from './server.js';
import { ObservedMetric } from './family.js';
import { run } from '../../testing/harness.js';

test('listen addresses: Hubble-style ":9965", host:port, [v6]:port; bad ones rejected', () => {
  assert.deepEqual(parseListenAddress(':9965'), { host: '0.0.0.0', port: 9965 });
  assert.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListenAddress('[::1]:9966'), { host: '::1', port: 9966 });
  for (const bad of ['9965', 'localhost', ':99999', 'a:b', '']) assert.throws(() => parseListenAddress(bad), /invalid/, bad);
});

test('the /metrics listener serves the registry in the Prometheus text format, 404 elsewhere', async () => {
  const registry = new Registry();
  let n = 0;
  new ObservedMetric('flowscope_test_total', 'A test counter', 'counter', () => [{ labels: { kind: 'a' }, value: ++n }]).register(registry);
  const server = await startMetricsServer('127.0.0.1:0', registry, createLogger('test', 'silent'));
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    assert.match(body, /# TYPE flowscope_test_total counter\nflowscope_test_total\{kind="a"\} 1\n/);
    assert.match(await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text(), /flowscope_test_total\{kind="a"\} 2/);
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/other`)).status, 404);
    // Modules that register in prom-client's default registry are served too.
    const g = new Gauge({ name: 'flowscope_test_default_registry', help: 'A gauge in the default registry' });
    g.set(7);
    assert.match(
      await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text(),
      /flowscope_test_total\{kind="a"\} 3\n[\s\S]*^flowscope_test_default_registry 7$/m,
    );
  } finally {
    register.removeSingleMetric('flowscope_test_default_registry');
    await server.close();
  }
});

test('bad --metrics and --metrics-addr values exit 2 with a message', async () => {
  const a = await run(['collector', '--metrics', 'drop:sourceContext=planet']);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /invalid --metrics: invalid sourceContext "planet"/);
  const b = await run(['relay', '--metrics-addr', 'localhost']);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /invalid listen address "localhost"/);
  const c = await run(['collector', '--metrics', 'drops']);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /unknown metric "drops"/);
});
