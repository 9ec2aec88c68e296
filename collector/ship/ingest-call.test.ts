import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { createHash, randomFillSync } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { types, encode, decode } from '../../proto/index.js';
import type { IngestAck, IngestMessage } from '../../proto/types.js';
import { IngestChannel, IngestStatusError, splitHostPort, type IngestCall } from './ingest-call.js';
import { IngestService, bindServer } from '../../common/grpc-services.js';
import { freePort } from '../../testing/harness.js';

const raw = (b: Buffer) => b;
const PUSH: grpc.ServiceDefinition = {
  Push: {
    ...IngestService.Push,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  },
};

/** A grpc-js server for Push that keeps every message's bytes and lets the test answer. */
async function rawRelay(onMessage: (call: grpc.ServerDuplexStream<Buffer, Buffer>, msg: Buffer, index: number) => void) {
  const server = new grpc.Server();
  const received: Buffer[] = [];
  server.addService(PUSH, {
    Push: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (m: Buffer) => {
        received.push(Buffer.from(m));
        onMessage(call, m, received.length - 1);
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
  });
  const port = await bindServer(server, '127.0.0.1:0');
  return { port, received, stop: () => server.forceShutdown() };
}

const ack = (a: IngestAck) => encode(types.IngestAck, a);

function ended(call: IngestCall): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    call.once('end', () => resolve({ code: grpc.status.OK, details: '' }));
    call.once('error', (e: IngestStatusError) => resolve({ code: e.code, details: e.details }));
  });
}

test('a Push call: messages reach the relay, its acks come back, its status ends the call', async () => {
  const relay = await rawRelay((call, msg, i) => {
    const m = decode<IngestMessage>(types.IngestMessage, msg);
    if (m.hello) call.write(ack({ durable_seq: 0, resume: true }));
    else if (i === 1) call.write(ack({ durable_seq: m.batch?.seq ?? 0 }));
    else call.emit('error', Object.assign(new Error('x'), { code: grpc.status.INVALID_ARGUMENT, details: 'sequence gap: expected 2, got 7 (é%)' }));
  });
  const channel = new IngestChannel(`127.0.0.1:${relay.port}`);
  const call = await channel.push();
  const acks: IngestAck[] = [];
  call.on('ack', (a: IngestAck) => acks.push(a));
  const end = ended(call);
  call.writeMessage({ hello: { session_id: 's', node_name: 'n' } });
  const body = encode(types.IngestMessage, { batch: { seq: 1 } });
  await new Promise<void>((resolve, reject) => call.write(body, (err) => (err ? reject(err) : resolve())));
  await new Promise((r) => setTimeout(r, 50));
  call.writeMessage({ batch: { seq: 7 } });
  assert.deepEqual(await end, { code: grpc.status.INVALID_ARGUMENT, details: 'sequence gap: expected 2, got 7 (é%)' });
  assert.deepEqual(
    acks.map((a) => a.durable_seq ?? 0),
    [0, 1],
  );
  assert.equal(acks[0].resume, true);
  assert.equal(relay.received.length, 3);
  assert.deepEqual(relay.received[1], body);
  channel.close();
  relay.stop();
});

test("a write's callback means the stream is done with the buffer: reusing it then never changes what the relay gets", async () => {
  const relay = await rawRelay(() => undefined);
  const channel = new IngestChannel(`127.0.0.1:${relay.port}`);
  const call = await channel.push();
  call.on('error', () => undefined); // the end of the test closes it
  // Two buffers, each rewritten as soon as its write is reported done; the messages are below
  // and above 1 MiB (a size where a client that holds messages for retries reports early).
  const buffers = [Buffer.alloc(3 << 20), Buffer.alloc(3 << 20)];
  const sent: string[] = [];
  for (let i = 0; i < 24; i++) {
    const size = i % 2 === 0 ? 200_000 + i : (1 << 20) + 4096 + i;
    const msg = buffers[i % 2].subarray(0, size);
    randomFillSync(msg);
    sent.push(createHash('sha256').update(msg).digest('hex'));
    await new Promise<void>((resolve, reject) =>
      call.write(msg, (err) => {
        if (err) return reject(err);
        msg.fill(0xee); // reused at once
        resolve();
      }),
    );
  }
  const deadline = Date.now() + 20_000;
  while (relay.received.length < sent.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(
    relay.received.map((m) => createHash('sha256').update(m).digest('hex')),
    sent,
  );
  call.end();
  channel.close();
  relay.stop();
});

test('the relay closing its side with OK ends the call', async () => {
  const relay = await rawRelay((call) => call.end());
  const channel = new IngestChannel(`127.0.0.1:${relay.port}`);
  const call = await channel.push();
  const end = ended(call);
  call.writeMessage({ hello: { session_id: 's' } });
  assert.deepEqual(await end, { code: grpc.status.OK, details: '' });
  channel.close();
  relay.stop();
});

test('no relay at the address: push() rejects as UNAVAILABLE; a relay dying mid-stream ends the call as UNAVAILABLE', async () => {
  const port = await freePort();
  await assert.rejects(
    new IngestChannel(`127.0.0.1:${port}`).push(),
    (e: IngestStatusError) => e.code === grpc.status.UNAVAILABLE && /ECONNREFUSED/.test(e.details),
  );

  const relay = await rawRelay(() => undefined);
  const channel = new IngestChannel(`127.0.0.1:${relay.port}`);
  const call = await channel.push();
  const end = ended(call);
  call.writeMessage({ hello: { session_id: 's' } });
  await new Promise((r) => setTimeout(r, 50));
  relay.stop();
  assert.equal((await end).code, grpc.status.UNAVAILABLE);
  channel.close();
});

test('an HTTP/2 server that is not a relay: the HTTP status becomes the gRPC code', async () => {
  const server = http2.createServer();
  server.on('stream', (stream) => stream.respond({ ':status': 404 }, { endStream: true }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const channel = new IngestChannel(`127.0.0.1:${port}`);
  const call = await channel.push();
  const end = ended(call);
  call.writeMessage({ hello: { session_id: 's' } });
  assert.deepEqual(await end, { code: grpc.status.UNIMPLEMENTED, details: 'relay answered HTTP 404' });
  channel.close();
  await new Promise((r) => server.close(r));
});

test('relay addresses must be host:port', () => {
  assert.deepEqual(splitHostPort('relay.flowscope:4245'), { host: 'relay.flowscope', port: 4245 });
  assert.deepEqual(splitHostPort('[fd00::1]:4245'), { host: 'fd00::1', port: 4245 });
  for (const bad of ['relay', 'relay:0', 'relay:70000', ':4245', 'fd00::1:4245']) assert.throws(() => splitHostPort(bad), /host:port/);
});
