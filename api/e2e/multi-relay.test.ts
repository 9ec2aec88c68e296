// Two relays over one store, as an operator would run them: a `flowscope storage-server`, two
// relays with --shared-store, four synthetic collectors (no --count: they produce until they are
// stopped) each given both relays. Relay 0 is SIGKILLed while its collectors stream; they fail over
// to relay 1 and resume from what storage holds. Relay 0 is started again, both relays list the
// four collectors alike; then the collectors are stopped (SIGTERM: they wait for every flow to be
// acknowledged and log their final counts), and storage holds each flow exactly once, and both
// relays return the same history.
//
// Every wait is on a condition; the deadlines only bound a hang. The storage server's log is kept
// in the test's directory and printed (with the others') when the test fails.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, ClickHouseLogLevel } from '@clickhouse/client';
import { freePort, run, startProc, waitFor, waitHealthy, type Proc, metricValue } from '../../testing/harness.js';
import { startIndex } from '../../collector/ship/shipper.js';

// Records per second per collector: small volumes (the point is who stores what, not speed).
const RATE = 20;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-multirelay-'));
const procs: Proc[] = [];
after(async () => {
  for (const p of [...procs].reverse()) await p.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function metric(text: string, name: string): number {
  const v = metricValue(text, name);
  assert.ok(!Number.isNaN(v), `${name} exported`);
  return v;
}

/** Four node names, two starting at each relay of a two-relay list. */
function nodeNames(): string[] {
  const by: string[][] = [[], []];
  for (let i = 0; by[0].length < 2 || by[1].length < 2; i++) {
    const n = `flowscope-demo/node-${i}`;
    const k = startIndex(n, 2);
    if (by[k].length < 2) by[k].push(n);
  }
  return [...by[0], ...by[1]];
}

/** The JSON log line with this message (the last one), or undefined. */
function logLine(output: string, msg: string): Record<string, number> | undefined {
  const line = output
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{') && l.includes(`"msg":"${msg}"`));
  return line ? (JSON.parse(line) as Record<string, number>) : undefined;
}

function exited(p: Proc): Promise<number | null> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return Promise.resolve(p.proc.exitCode);
  return new Promise((r) => p.proc.once('exit', (code) => r(code)));
}

test('two relays over a storage server: one SIGKILLed mid-stream, nothing lost or stored twice, both answer alike', { timeout: 900_000 }, async (t) => {
  const storagePort = await freePort();
  const storageUrl = `http://127.0.0.1:${storagePort}`;
  const storageLog = path.join(dir, 'storage-server.log');
  const storage = startProc(['storage-server', '--listen', `127.0.0.1:${storagePort}`, '--data-dir', path.join(dir, 'chdb')], {
    FLOWSCOPE_LOG_LEVEL: 'debug',
  });
  const logFile = fs.createWriteStream(storageLog);
  storage.proc.stdout!.pipe(logFile);
  storage.proc.stderr!.pipe(logFile);
  procs.push(storage);
  const ch = createClient({ url: storageUrl, clickhouse_settings: { output_format_json_quote_64bit_integers: 1 }, log: { level: ClickHouseLogLevel.OFF } });
  const rows = async <T>(query: string) => (await (await ch.query({ query, format: 'JSONCompactEachRow' })).json<T>()) as T[];
  try {
    await waitFor(
      'the storage server with its schema',
      async () => ((await rows<[string]>("SELECT count() FROM system.tables WHERE name = 'relay_nodes'"))[0][0] === '1' ? true : undefined),
      120_000,
    );

    const relayAddr = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    const startRelay = (i: number) => {
      const p = startProc([
        'relay',
        '--listen',
        relayAddr[i],
        '--node-name',
        `relay-${i}`,
        '--clickhouse-url',
        storageUrl,
        '--shared-store',
        '--registration-interval',
        '500',
        '--node-stale-after',
        '10000',
        '--flush-interval',
        '100',
        '--spool-dir',
        'none',
      ]);
      procs.push(p);
      return p;
    };
    const relays = [startRelay(0), startRelay(1)];
    await waitHealthy(relayAddr[0], 120_000);
    await waitHealthy(relayAddr[1], 120_000);

    const names = nodeNames();
    const collectors: Array<{ name: string; metrics: number; proc: Proc }> = [];
    for (const name of names) {
      const metrics = await freePort();
      const proc = startProc([
        'collector',
        '--source',
        'synthetic',
        '--node-name',
        name.slice(name.indexOf('/') + 1),
        '--rate',
        String(RATE),
        '--relay',
        relayAddr.join(','),
        '--listen',
        `127.0.0.1:${await freePort()}`,
        '--metrics-addr',
        `127.0.0.1:${metrics}`,
        // At the end the test stops them and they wait, however long that takes here, for
        // every flow to be acknowledged.
        '--drain-timeout',
        '300000',
      ]);
      procs.push(proc);
      collectors.push({ name, metrics, proc });
    }
    const scrape = async (c: { metrics: number }) => (await fetch(`http://127.0.0.1:${c.metrics}/metrics`)).text();
    const onFirst = collectors.filter((c) => startIndex(c.name, 2) === 0);

    // Mid-stream: every collector of relay 0 has flows acknowledged there. Their sources run until
    // they are stopped, so they are still producing when the relay dies.
    const atKill = new Map<string, { acked: number; read: number }>();
    await waitFor(
      'collectors of relay 0 streaming',
      async () => {
        for (const c of onFirst) {
          const m = await scrape(c);
          if (metric(m, 'flowscope_collector_ship_flows_acked_total') === 0) return undefined;
        }
        return true;
      },
      300_000,
    );
    t.diagnostic('killing relay 0 mid-stream');
    relays[0].proc.kill('SIGKILL');
    await exited(relays[0]);
    for (const c of onFirst) {
      const m = await scrape(c);
      const acked = metric(m, 'flowscope_collector_ship_flows_acked_total');
      atKill.set(c.name, { acked, read: metric(m, 'flowscope_collector_records_read_total') });
      // What the kill interrupted (reported, not required: it depends on timing).
      t.diagnostic(`${c.name} at the kill: ${acked} flows acknowledged, ${metric(m, 'flowscope_collector_ship_flows_sent_total') - acked} sent and not yet`);
    }

    // Relay 0's collectors moved to relay 1, which acknowledges their new flows.
    await waitFor(
      "relay 0's collectors acknowledged on relay 1",
      async () => {
        for (const c of onFirst) {
          const m = await scrape(c);
          const before = atKill.get(c.name)!;
          if (metric(m, 'flowscope_collector_relay_failovers_total') < 1) return undefined;
          if (metric(m, 'flowscope_collector_relay_connected') !== 1) return undefined;
          if (metric(m, 'flowscope_collector_ship_flows_acked_total') <= before.acked) return undefined;
          if (metric(m, 'flowscope_collector_records_read_total') <= before.read) return undefined;
        }
        return true;
      },
      300_000,
    );

    // The killed relay back: both list the same four collectors, connected (those of relay 0 are
    // known to the restarted relay only through relay 1's registrations).
    relays[0] = startRelay(0);
    await waitHealthy(relayAddr[0], 120_000);
    const nodesOf = async (server: string) => {
      const r = await run(['list', 'nodes', '--server', server, '-o', 'json'], { timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as unknown;
    };
    const connectedNames = (v: unknown) => {
      const list = (Array.isArray(v) ? v : ((v as { nodes?: unknown[] }).nodes ?? [])) as Array<{ name: string; state: string | number }>;
      return list
        .filter((n) => n.state === 'NODE_CONNECTED' || n.state === 1)
        .map((n) => n.name)
        .sort();
    };
    const names4 = JSON.stringify([...names].sort());
    t.diagnostic('relay 0 started again; comparing GetNodes');
    await waitFor(
      'both relays listing the four collectors as connected',
      async () => {
        const [na, nb] = [connectedNames(await nodesOf(relayAddr[0])), connectedNames(await nodesOf(relayAddr[1]))];
        return JSON.stringify(na) === names4 && JSON.stringify(nb) === names4 ? true : undefined;
      },
      120_000,
    );

    // Live on any relay covers every collector, its own and those the other relay registered:
    // relay 0 is followed here, whatever set of collectors reconnected to it.
    t.diagnostic('following on relay 0');
    const follow = startProc(['observe', '--server', relayAddr[0], '--follow', '-o', 'jsonpb']);
    procs.push(follow);
    const liveNodes = () =>
      new Set(
        follow
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{"flow"'))
          .map((l) => JSON.parse(l).flow.node_name as string),
      );
    await waitFor('live flows of all four collectors on relay 0', async () => (names.every((n) => liveNodes().has(n)) ? true : undefined), 120_000);
    await follow.stop();

    // Told to stop: each collector stops reading, waits for its acks, and logs its final counts.
    t.diagnostic('stopping the collectors');
    for (const c of collectors) c.proc.proc.kill('SIGTERM');
    let produced = 0;
    const flowsOf = new Map<string, number>();
    for (const c of collectors) {
      assert.equal(await exited(c.proc), 0, `${c.name} stopped cleanly`);
      const fin = logLine(c.proc.output(), 'shipper stopped');
      assert.ok(fin, `${c.name} logged its final counts`);
      assert.ok(fin.flows > 0, `${c.name} produced flows`);
      assert.equal(fin.acked, fin.flows, `${c.name}: every flow acknowledged`);
      assert.equal(fin.dropped, 0, `${c.name} dropped nothing`);
      if (startIndex(c.name, 2) === 0) assert.ok(fin.failovers >= 1, `${c.name} failed over`);
      produced += fin.flows;
      t.diagnostic(`${c.name}: ${fin.flows} flows, ${fin.failovers} failovers`);
      flowsOf.set(c.name, fin.flows);
    }

    t.diagnostic(`all acknowledged: ${produced} flows`);
    // Storage: every flow once, every collector's flows present.
    const [[count, distinct]] = await rows<[string, string]>('SELECT count(), uniqExact(uuid) FROM flows');
    assert.equal(Number(count), produced, 'stored == generated');
    assert.equal(Number(distinct), produced, 'no uuid stored twice');
    const perNode = new Map((await rows<[string, string]>('SELECT node_name, count() FROM flows GROUP BY node_name')).map(([n, k]) => [n, Number(k)]));
    for (const c of collectors) assert.equal(perNode.get(c.name), flowsOf.get(c.name), `${c.name}'s flows stored`);

    // Both relays answer the same history.
    const uuidsOf = async (server: string) => {
      const r = await run(['observe', '--server', server, '--all', '-o', 'jsonpb', '--field-mask', 'uuid'], { timeoutMs: 300_000 });
      assert.equal(r.code, 0, r.stderr);
      return r.stdout
        .split('\n')
        .filter((l) => l.startsWith('{"flow"'))
        .map((l) => JSON.parse(l).flow.uuid as string)
        .sort();
    };
    t.diagnostic('comparing GetFlows');
    const [a, b] = [await uuidsOf(relayAddr[0]), await uuidsOf(relayAddr[1])];
    assert.equal(a.length, produced);
    assert.deepEqual(a, b, 'both relays return the same history');
  } catch (err) {
    // The storage server's stats go to its log when it stops.
    await storage.stop();
    await new Promise<void>((r) => logFile.end(r));
    for (const p of procs) if (p !== storage) process.stderr.write(`--- ${p.proc.spawnargs.slice(2, 4).join(' ')}\n${p.output().slice(-3000)}\n`);
    const lines = fs.readFileSync(storageLog, 'utf8').trimEnd().split('\n');
    process.stderr.write(`--- storage server log (${storageLog}, last 400 of ${lines.length} lines)\n${lines.slice(-400).join('\n')}\n`);
    throw err;
  } finally {
    await ch.close();
  }
});
