// Hostile gRPC requests as raw bytes, through a generic grpc-js client with a passthrough
// serialiser, so the server's own decoding is what is tested: random bytes, truncated and
// bit-flipped valid requests, lying length prefixes. Each call's outcome is checked against what
// the bytes are: a request that does not decode must be refused INTERNAL (as gRPC-Go does), one
// that decodes must never be INTERNAL (it is answered or refused INVALID_ARGUMENT/UNIMPLEMENTED).
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { rng } from './gen-flows.js';
import { IngestService, InsightsService, ObserverService } from '../common/grpc-services.js';
import { types } from '../proto/index.js';

export interface FuzzMethod {
  path: string;
  requestType: protobuf.Type;
  requestStream: boolean;
  responseStream: boolean;
  /** Valid requests to truncate and corrupt. */
  seeds: object[];
  /** A decoded request the server keeps open (follow, watch): cancelled once the server answered metadata or a first message. */
  streamsForever?: (decoded: Record<string, unknown>) => boolean;
}

const HEALTH_REQUEST = new protobuf.Type('HealthCheckRequest').add(new protobuf.Field('service', 1, 'string'));
new protobuf.Root().define('grpc.health.v1').add(HEALTH_REQUEST);

const def = (
  d: grpc.MethodDefinition<object, object>,
  requestType: protobuf.Type,
  seeds: object[],
  streamsForever?: FuzzMethod['streamsForever'],
): FuzzMethod => ({ path: d.path, requestType, requestStream: d.requestStream, responseStream: d.responseStream, seeds, streamsForever });

const follows = (r: Record<string, unknown>) => r.follow === true;

/** Every method of observer.Observer, with valid requests of each to corrupt. */
export function observerFuzzMethods(nowS = Math.floor(Date.now() / 1000)): FuzzMethod[] {
  const flowsSeeds = [
    { number: 10, whitelist: [{ source_pod: ['default/web'], verdict: [2] }], blacklist: [{ destination_port: ['53'] }] },
    { follow: true, whitelist: [{ source_ip: ['10.0.0.0/8'] }] },
    { since: { seconds: nowS - 60 }, until: { seconds: nowS }, first: true, number: 5, field_mask: { paths: ['source', 'verdict'] } },
    { number: 3, whitelist: [{ http_status_code: ['500+'], event_type: [{ type: 1 }] }] },
  ];
  return [
    def(ObserverService.GetFlows, types.GetFlowsRequest, flowsSeeds, follows),
    def(ObserverService.GetAgentEvents, types.GetAgentEventsRequest, [{ number: 5, follow: true }], follows),
    def(ObserverService.GetDebugEvents, types.GetDebugEventsRequest, [{ number: 5 }], follows),
    def(ObserverService.GetNodes, types.GetNodesRequest, [{}]),
    def(ObserverService.GetNamespaces, types.GetNamespacesRequest, [{}]),
    def(ObserverService.ServerStatus, types.ServerStatusRequest, [{}]),
  ];
}

/** Every method of the relay's Insights service. */
export function insightsFuzzMethods(nowS = Math.floor(Date.now() / 1000)): FuzzMethod[] {
  const seeds = [{ since: { seconds: nowS - 3600 }, until: { seconds: nowS }, namespace: 'default', limit: 10 }, { since: { seconds: nowS - 60 } }];
  return [
    def(InsightsService.ServiceMap, types.InsightsRequest, seeds),
    def(InsightsService.TopTalkers, types.InsightsRequest, seeds),
    def(InsightsService.TopDropReasons, types.InsightsRequest, seeds),
  ];
}

/** The relay's Ingest Push, one hostile frame per stream. */
export function ingestFuzzMethod(): FuzzMethod {
  return def(IngestService.Push, types.IngestMessage, [
    { hello: { node_name: 'fuzz', session_id: 's1', observer_address: '127.0.0.1:1' } },
    { batch: { seq: 1 } },
  ]);
}

/** grpc.health.v1.Health Check and Watch. */
export function healthFuzzMethods(): FuzzMethod[] {
  return [
    {
      path: '/grpc.health.v1.Health/Check',
      requestType: HEALTH_REQUEST,
      requestStream: false,
      responseStream: false,
      seeds: [{ service: '' }, { service: 'hubble.server.Observer' }],
    },
    {
      path: '/grpc.health.v1.Health/Watch',
      requestType: HEALTH_REQUEST,
      requestStream: false,
      responseStream: true,
      seeds: [{ service: '' }],
      streamsForever: () => true,
    },
  ];
}

export interface FuzzTally {
  calls: number;
  /** Requests that did not decode locally (so the server must refuse them INTERNAL). */
  undecodable: number;
  undecodableByPath: Record<string, number>;
  callsByPath: Record<string, number>;
  /** Status codes seen, by name. */
  codes: Record<string, number>;
  /** Calls this side cancelled (streams that would stay open). */
  cancelled: number;
}

const identity = (b: Buffer) => b;

// What a request that decodes may get: an answer, or a refusal that names the problem (bad
// values, a method this server does not serve, a protocol step out of order, an unknown health
// service), or the cancellation of a stream that would stay open.
const ANSWERS = [
  grpc.status.OK,
  grpc.status.INVALID_ARGUMENT,
  grpc.status.UNIMPLEMENTED,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.NOT_FOUND,
  grpc.status.CANCELLED,
];

/** One hostile request body for `m`. */
export function hostileBytes(m: FuzzMethod, rand: () => number): Buffer {
  const seed = Buffer.from(m.requestType.encode(m.requestType.fromObject(m.seeds[Math.floor(rand() * m.seeds.length)])).finish());
  switch (Math.floor(rand() * 6)) {
    case 0: {
      const b = Buffer.alloc(Math.floor(rand() * 300));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
      return b;
    }
    case 1:
      return seed.subarray(0, Math.floor(rand() * seed.length));
    case 2: {
      const b = Buffer.from(seed);
      for (let i = 0, n = 1 + Math.floor(rand() * 4); i < n && b.length > 0; i++) b[Math.floor(rand() * b.length)] ^= 1 << Math.floor(rand() * 8);
      return b;
    }
    case 3:
      // A length-delimited field 1 claiming far more bytes than follow.
      return Buffer.concat([Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), seed]);
    case 4:
      // An unknown field number with a huge varint, then the seed: unknown fields are skipped.
      return Buffer.concat([Buffer.from([0xf8, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), seed]);
    default:
      return seed;
  }
}

function decodes(m: FuzzMethod, b: Buffer): Record<string, unknown> | null {
  try {
    return m.requestType.toObject(m.requestType.decode(b), { defaults: false }) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Sends `n` hostile requests spread over the methods, `concurrency` at a time. */
export async function fuzzMethods(address: string, methods: FuzzMethod[], n: number, seed: number, concurrency = 16): Promise<FuzzTally> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const rand = rng(seed);
  const tally: FuzzTally = { calls: 0, undecodable: 0, undecodableByPath: {}, callsByPath: {}, codes: {}, cancelled: 0 };
  const one = async (i: number) => {
    const m = methods[i % methods.length];
    const body = hostileBytes(m, rand);
    const decoded = decodes(m, body);
    if (!decoded) {
      tally.undecodable++;
      tally.undecodableByPath[m.path] = (tally.undecodableByPath[m.path] ?? 0) + 1;
    }
    tally.calls++;
    tally.callsByPath[m.path] = (tally.callsByPath[m.path] ?? 0) + 1;
    const st = await call(client, m, body, decoded);
    if (st.cancelledByUs) tally.cancelled++;
    const name = grpc.status[st.code];
    tally.codes[name] = (tally.codes[name] ?? 0) + 1;
    if (!decoded && st.code !== grpc.status.INTERNAL) throw new Error(`${m.path}: undecodable request answered ${name} (${st.details})`);
    if (decoded && st.code === grpc.status.INTERNAL)
      throw new Error(`${m.path}: decodable request ${JSON.stringify(decoded)} answered INTERNAL (${st.details})`);
    if (decoded && !ANSWERS.includes(st.code)) throw new Error(`${m.path}: ${JSON.stringify(decoded)} answered ${name} (${st.details})`);
  };
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) await one(next++);
      }),
    );
  } finally {
    client.close();
  }
  return tally;
}

function call(
  client: grpc.Client,
  m: FuzzMethod,
  body: Buffer,
  decoded: Record<string, unknown> | null,
): Promise<{ code: grpc.status; details: string; cancelledByUs: boolean }> {
  return new Promise((resolve) => {
    let cancelledByUs = false;
    const onStatus = (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details, cancelledByUs });
    if (!m.requestStream && !m.responseStream) {
      const c = client.makeUnaryRequest(m.path, identity, identity, body, () => {});
      c.on('status', onStatus);
      return;
    }
    const forever = decoded !== null && (m.streamsForever?.(decoded) ?? false);
    const stream = m.requestStream
      ? client.makeBidiStreamRequest(m.path, identity, identity)
      : client.makeServerStreamRequest(m.path, identity, identity, body);
    const cancel = () => {
      if (!forever || cancelledByUs) return;
      cancelledByUs = true;
      stream.cancel();
    };
    stream.on('metadata', cancel);
    stream.on('data', cancel);
    stream.on('error', () => {});
    stream.on('status', onStatus);
    if (m.requestStream) {
      const s = stream as grpc.ClientDuplexStream<Buffer, Buffer>;
      s.write(body);
      s.end();
    }
  });
}
