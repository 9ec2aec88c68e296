// The collector's own Observer API (and its health service) against hostile request bytes, on a
// running `flowscope collector`: it refuses what does not decode (INTERNAL) or does not make
// sense (INVALID_ARGUMENT, UNIMPLEMENTED for GetNodes as on a Hubble agent), counts every call
// in its /metrics, and keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startProc, waitHealthy } from '../testing/harness.js';
import { fuzzMethods, healthFuzzMethods, observerFuzzMethods } from '../testing/grpc-fuzz.js';

/** Sum of the samples of `metric` whose labels contain every `match` (name="value"). */
function sum(text: string, metric: string, ...match: string[]): number {
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    if (match.every((m) => line.includes(m))) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

test('hostile request bytes on every method of a running collector: refused, counted in /metrics, still serving', { timeout: 180_000 }, async (t) => {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const collector = startProc(['collector', '--rate', '200', '--listen', `127.0.0.1:${port}`, '--metrics-addr', `127.0.0.1:${metricsPort}`]);
  const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  try {
    await waitHealthy(`127.0.0.1:${port}`);
    const methods = [...observerFuzzMethods(), ...healthFuzzMethods()];
    const before = await scrape();
    const tally = await fuzzMethods(`127.0.0.1:${port}`, methods, 1500, 20261208);
    t.diagnostic(`outcomes: ${JSON.stringify(tally.codes)}, undecodable ${tally.undecodable}`);
    assert.ok(tally.undecodable > 100 && (tally.codes.UNIMPLEMENTED ?? 0) > 0 && (tally.codes.INVALID_ARGUMENT ?? 0) > 0, 'a mix of refusals');
    assert.equal(collector.proc.exitCode, null, 'the collector is still running');
    await waitHealthy(`127.0.0.1:${port}`);
    const after = await scrape();
    const delta = (metric: string, ...m: string[]) => sum(after, metric, ...m) - sum(before, metric, ...m);
    assert.equal(delta('flowscope_grpc_malformed_requests_total'), tally.undecodable, 'every undecodable request counted');
    assert.equal(delta('grpc_server_handled_total', 'grpc_code="Internal"'), tally.codes.INTERNAL);
    // Every fuzz call ended and was counted once, under its method.
    for (const m of methods.filter((x) => x.path.startsWith('/observer.'))) {
      const name = m.path.slice(m.path.lastIndexOf('/') + 1);
      assert.equal(delta('grpc_server_handled_total', `grpc_method="${name}"`), tally.callsByPath[m.path], `${name} calls counted`);
      assert.equal(delta('grpc_server_started_total', `grpc_method="${name}"`), tally.callsByPath[m.path]);
    }
    assert.ok(
      delta('grpc_server_handled_total', 'grpc_method="GetNodes"', 'grpc_code="Unimplemented"') > 0,
      'GetNodes refused UNIMPLEMENTED, as on a Hubble agent',
    );
  } finally {
    const code = await collector.stop();
    assert.equal(code, 0, collector.output());
  }
});
