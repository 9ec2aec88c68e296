// gRPC service definitions built from the reflected protos, so grpc-js serialises with the same
// protobufjs types the rest of flowscope uses (no second code path through proto-loader).
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { types, encode, decode } from '../proto/index.js';
import type { HealthImplementation } from 'grpc-health-check';
import { listenError } from './start-error.js';

function method(
  service: string,
  name: string,
  req: protobuf.Type,
  res: protobuf.Type,
  requestStream: boolean,
  responseStream: boolean,
): grpc.MethodDefinition<object, object> {
  return {
    path: `/${service}/${name}`,
    requestStream,
    responseStream,
    // A Buffer is an already-encoded message (the collector's shipper encodes batches once).
    requestSerialize: (v: object) => (Buffer.isBuffer(v) ? v : encode(req, v)),
    requestDeserialize: (b: Buffer) => decode<object>(req, b),
    // Likewise an encoded response (the relay forwards its collectors' flows as they came).
    responseSerialize: (v: object) => (Buffer.isBuffer(v) ? v : encode(res, v)),
    responseDeserialize: (b: Buffer) => decode<object>(res, b),
  };
}

export const ObserverService = {
  GetFlows: method('observer.Observer', 'GetFlows', types.GetFlowsRequest, types.GetFlowsResponse, false, true),
  GetAgentEvents: method('observer.Observer', 'GetAgentEvents', types.GetAgentEventsRequest, types.GetAgentEventsResponse, false, true),
  GetDebugEvents: method('observer.Observer', 'GetDebugEvents', types.GetDebugEventsRequest, types.GetDebugEventsResponse, false, true),
  GetNodes: method('observer.Observer', 'GetNodes', types.GetNodesRequest, types.GetNodesResponse, false, false),
  GetNamespaces: method('observer.Observer', 'GetNamespaces', types.GetNamespacesRequest, types.GetNamespacesResponse, false, false),
  ServerStatus: method('observer.Observer', 'ServerStatus', types.ServerStatusRequest, types.ServerStatusResponse, false, false),
} satisfies grpc.ServiceDefinition;

export const IngestService = {
  Push: method('flowscope.ingest.v1.Ingest', 'Push', types.IngestMessage, types.IngestAck, true, true),
} satisfies grpc.ServiceDefinition;

export const InsightsService = {
  ServiceMap: method('flowscope.insights.v1.Insights', 'ServiceMap', types.InsightsRequest, types.ServiceMapResponse, false, false),
  TopTalkers: method('flowscope.insights.v1.Insights', 'TopTalkers', types.InsightsRequest, types.TopTalkersResponse, false, false),
  TopDropReasons: method('flowscope.insights.v1.Insights', 'TopDropReasons', types.InsightsRequest, types.TopDropReasonsResponse, false, false),
  Why: method('flowscope.insights.v1.Insights', 'Why', types.WhyRequest, types.WhyReport, false, false),
} satisfies grpc.ServiceDefinition;

export const RelayStatusService = {
  LostEvents: method('flowscope.status.v1.RelayStatus', 'LostEvents', types.LostEventsRequest, types.LostEventsResponse, false, false),
} satisfies grpc.ServiceDefinition;

export const PeerService = {
  Notify: method('peer.Peer', 'Notify', types.NotifyRequest, types.ChangeNotification, false, true),
} satisfies grpc.ServiceDefinition;

export const ObserverClient = grpc.makeGenericClientConstructor(ObserverService, 'Observer');
export const IngestClient = grpc.makeGenericClientConstructor(IngestService, 'Ingest');
export const InsightsClient = grpc.makeGenericClientConstructor(InsightsService, 'Insights');
export const RelayStatusClient = grpc.makeGenericClientConstructor(RelayStatusService, 'RelayStatus');

/** The health service name the hubble CLI checks before it calls ServerStatus. */
export const OBSERVER_HEALTH_SERVICE = 'hubble.server.Observer';

/** Splits "host:port" (or ":port", or "[v6]:port") into a grpc-js bind/dial address. */
export function normaliseAddress(addr: string, defaultPort: number): string {
  const a = addr.trim();
  if (a.startsWith('unix:')) return a;
  if (/^\d+$/.test(a)) return `0.0.0.0:${a}`;
  if (a.startsWith(':')) return `0.0.0.0${a}`;
  if (/^\[.*\]$/.test(a) || !/:\d+$/.test(a)) return `${a}:${defaultPort}`;
  return a;
}

/** Binds a server and resolves with the actual port (useful when asked for port 0); plaintext
 * unless given credentials (common/tls.ts). */
export function bindServer(
  server: grpc.Server,
  address: string,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
  flag = '--listen',
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => (err ? reject(listenError(err, address, flag)) : resolve(port)));
  });
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * A plaintext listener that serves grpc.health.v1 and nothing else, with the statuses of the
 * main server's `health` (hubble-relay's --health-listen-address). The kubelet's gRPC probe
 * speaks no TLS: with TLS on the main port, probes ask here. Status only, no flows.
 */
export async function startHealthServer(address: string, health: HealthImplementation): Promise<HealthServer> {
  const server = new grpc.Server();
  health.addToServer(server);
  const port = await bindServer(server, normaliseAddress(address, 0), grpc.ServerCredentials.createInsecure(), '--health-listen');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        // Health watches stream forever: do not wait for them.
        server.forceShutdown();
        resolve();
      }),
  };
}

export function grpcError(code: grpc.status, message: string): grpc.ServiceError {
  const e = new Error(message) as grpc.ServiceError;
  e.code = code;
  e.details = message;
  e.metadata = new grpc.Metadata();
  return e;
}
