// Two relays over one store, as an operator would run them: a `flowscope storage-server`, two
// relays with --shared-store, four collectors (synthetic, a fixed number of records) each given
// both relays. One relay is SIGKILLed while the collectors stream; its collectors fail over to the
// other relay and resume from what storage holds. Once every collector's flows are acknowledged,
// storage holds each flow exactly once, and both relays (the killed one started again) answer
// GetFlows and GetNodes identically, with all four collectors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, ClickHouseLogLevel } from '@clickhouse/client';
import { freePort, run, startProc, waitFor, waitHealthy, type Proc } from '../../testing/harness.js';
import { startIndex } from '../../collector/ship/shipper.js';

const RECORDS = 15_000;
// A minute of production per collector: the kill lands while every source is still producing.
const RATE = 300;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-multirelay-'));
const procs: Proc[] = [];
after(async () => {
  for (const p of procs.reverse()) await p.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} exported`);
  return Number(line.split(' ')[1]);
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

test('two relays over a storage server: one SIGKILLed mid-stream, nothing lost or stored twice, both answer alike', { timeout: 1_200_000 }, async (t) => {
  const storagePort = await freePort();
  const storageUrl = `http://127.0.0.1:${storagePort}`;
  const storage = startProc(['storage-server', '--listen', `127.0.0.1:${storagePort}`, '--data-dir', path.join(dir, 'chdb')]);
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
        '4000',
        '--flush-interval',
        '100',
        '--spool-dir',
        'none',
      ]);
      procs.push(p);
      return p;
    };
    const relays = [startRelay(0), startRelay(1)];
    await waitHealthy(relayAddr[0]);
    await waitHealthy(relayAddr[1]);

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
        '--count',
        String(RECORDS),
        '--relay',
        relayAddr.join(','),
        '--listen',
        `127.0.0.1:${await freePort()}`,
        '--metrics-addr',
        `127.0.0.1:${metrics}`,
      ]);
      procs.push(proc);
      collectors.push({ name, metrics, proc });
    }
    const scrape = async (c: { metrics: number }) => (await fetch(`http://127.0.0.1:${c.metrics}/metrics`)).text();

    // Mid-stream: every collector of relay 0 has flows acknowledged and its source is still producing.
    const onFirst = collectors.filter((c) => startIndex(c.name, 2) === 0);
    await waitFor(
      'collectors of relay 0 streaming',
      async () => {
        for (const c of onFirst) {
          const m = await scrape(c);
          if (metric(m, 'flowscope_collector_ship_flows_acked_total') === 0) return undefined;
        }
        return true;
      },
      // Generous: on a shared, loaded machine four collectors and two relays take a while to start.
      300_000,
    );
    for (const c of onFirst) assert.ok(metric(await scrape(c), 'flowscope_collector_records_read_total') < RECORDS, `${c.name} still producing at the kill`);
    t.diagnostic('killing relay 0 mid-stream');
    relays[0].proc.kill('SIGKILL');
    await new Promise((r) => relays[0].proc.once('exit', r));

    const finals = new Map<string, string>();
    for (const c of collectors) {
      finals.set(
        c.name,
        await waitFor(
          `${c.name} done and acknowledged`,
          async () => {
            const m = await scrape(c);
            return metric(m, 'flowscope_collector_records_read_total') === RECORDS &&
              metric(m, 'flowscope_collector_ship_flows_acked_total') === metric(m, 'flowscope_collector_flows_total')
              ? m
              : undefined;
          },
          240_000,
        ),
      );
    }
    let produced = 0;
    for (const c of collectors) {
      const m = finals.get(c.name)!;
      assert.equal(metric(m, 'flowscope_collector_ship_flows_dropped_total'), 0, `${c.name} dropped nothing`);
      if (startIndex(c.name, 2) === 0) assert.ok(metric(m, 'flowscope_collector_relay_failovers_total') >= 1, `${c.name} failed over`);
      produced += metric(m, 'flowscope_collector_flows_total');
    }

    t.diagnostic(`all acknowledged: ${produced} flows`);
    // Storage: every flow once, every collector's flows present.
    const [[count, distinct]] = await rows<[string, string]>('SELECT count(), uniqExact(uuid) FROM flows');
    assert.equal(Number(count), produced, 'stored == generated');
    assert.equal(Number(distinct), produced, 'no uuid stored twice');
    const perNode = new Map((await rows<[string, string]>('SELECT node_name, count() FROM flows GROUP BY node_name')).map(([n, k]) => [n, Number(k)]));
    for (const c of collectors) assert.equal(perNode.get(c.name), metric(finals.get(c.name)!, 'flowscope_collector_flows_total'), `${c.name}'s flows stored`);

    // The killed relay back: both answer the same history and list the same four collectors.
    relays[0] = startRelay(0);
    await waitHealthy(relayAddr[0]);
    const uuidsOf = async (server: string) => {
      const r = await run(['observe', '--server', server, '--all', '-o', 'jsonpb', '--field-mask', 'uuid'], { timeoutMs: 180_000 });
      assert.equal(r.code, 0, r.stderr);
      return r.stdout
        .split('\n')
        .filter((l) => l.startsWith('{"flow"'))
        .map((l) => JSON.parse(l).flow.uuid as string)
        .sort();
    };
    t.diagnostic('relay 0 started again; comparing GetFlows');
    const [a, b] = [await uuidsOf(relayAddr[0]), await uuidsOf(relayAddr[1])];
    assert.equal(a.length, produced);
    assert.deepEqual(a, b, 'both relays return the same history');
    const nodesOf = async (server: string) => {
      const r = await run(['list', 'nodes', '--server', server, '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { nodes?: Array<{ name: string; state: string }> } | Array<{ name: string; state: string }> as unknown;
    };
    const names4 = [...names].sort();
    const connectedNames = (v: unknown) => {
      const list = (Array.isArray(v) ? v : ((v as { nodes?: unknown[] }).nodes ?? [])) as Array<{ name: string; state: string | number }>;
      return list
        .filter((n) => n.state === 'NODE_CONNECTED' || n.state === 1)
        .map((n) => n.name)
        .sort();
    };
    t.diagnostic('comparing GetNodes');
    const seen = await waitFor(
      'both relays listing the four collectors as connected',
      async () => {
        const [na, nb] = [connectedNames(await nodesOf(relayAddr[0])), connectedNames(await nodesOf(relayAddr[1]))];
        return JSON.stringify(na) === JSON.stringify(names4) && JSON.stringify(nb) === JSON.stringify(names4) ? [na, nb] : undefined;
      },
      60_000,
    );
    assert.deepEqual(seen[0], seen[1]);
  } catch (err) {
    for (const p of procs) process.stderr.write(`--- ${p.proc.spawnargs.slice(2, 4).join(' ')}\n${p.output().slice(-2000)}\n`);
    throw err;
  } finally {
    await ch.close();
  }
});
