// The relay killed with SIGKILL mid-stream (a separate `flowscope relay` process on chDB) and
// started again on the same data directory: the collector resends what was not acked, the relay
// resumes from the ingest progress stored with the rows, and every flow is stored exactly once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, startProc, waitHealthy, type Proc } from '../../testing/harness.js';
import { Shipper, DEFAULT_SHIPPER_OPTIONS } from '../../collector/ship/shipper.js';
import { createLogger } from '../../common/logger.js';
import { FlowStore } from '../../storage/index.js';
import type { Flow } from '../../proto/types.js';

const log = createLogger('test', 'silent');
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-crash-'));
after(() => fs.rm(dir, { recursive: true, force: true }));

const now = Math.floor(Date.now() / 1000) - 60;
const flow = (i: number): Flow => ({ uuid: `k-${i}`, time: { seconds: now, nanos: i }, node_name: 'n1', verdict: 1 });

test('SIGKILL of the relay mid-stream, then a restart: no flow lost, none stored twice', async () => {
  const port = await freePort();
  const server = `127.0.0.1:${port}`;
  const relayArgs = ['relay', '--listen', server, '--data-dir', path.join(dir, 'chdb'), '--flush-interval', '20', '--batch-rows', '300'];
  let relay: Proc = startProc(relayArgs);
  await waitHealthy(server);
  const shipper = new Shipper(
    {
      ...DEFAULT_SHIPPER_OPTIONS,
      maxBatchFlows: 50,
      maxBatchDelayMs: 5,
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
      relayAddress: server,
      nodeName: 'n1',
      observerAddress: '',
      version: 't',
    },
    log,
  );
  shipper.start();
  const total = 20_000;
  let sent = 0;
  const feed = setInterval(() => {
    for (let k = 0; k < 400 && sent < total; k++) shipper.add(flow(sent++));
  }, 10);
  try {
    // Kill while flows are in flight: some acked, some sent but unacked, some not sent yet.
    for (let i = 0; i < 400 && shipper.stats.flowsAcked < 3000; i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(shipper.stats.flowsAcked >= 3000, 'the relay stored flows before the kill');
    relay.proc.kill('SIGKILL');
    await new Promise((r) => relay.proc.once('exit', r));
    const ackedAtKill = shipper.stats.flowsAcked;
    assert.ok(ackedAtKill < total, 'the kill came mid-stream');
    relay = startProc(relayArgs);
    await waitHealthy(server);
    for (let i = 0; i < 2400 && sent < total; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(await shipper.drain(60_000), true, `drained (acked ${shipper.stats.flowsAcked})`);
    assert.ok(shipper.stats.reconnects >= 1);
  } finally {
    clearInterval(feed);
    await shipper.stop();
    assert.equal(await relay.stop(), 0, relay.output());
  }
  const store = await FlowStore.open({ path: path.join(dir, 'chdb') });
  try {
    const uuids: string[] = [];
    for await (const f of store.queryFlows({})) uuids.push(f.uuid!);
    assert.equal(uuids.length, total, 'every flow stored once');
    assert.equal(new Set(uuids).size, total);
  } finally {
    await store.close();
  }
});
