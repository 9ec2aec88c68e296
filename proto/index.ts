// Loads the Hubble-compatible protos once and exposes their reflected types.
// protobufjs compiles an encoder/decoder per type at load time, so encode/decode run at the
// speed of generated code without a code-generation step in the build.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import protobuf from 'protobufjs';

// 64-bit fields decode as JS numbers: the values we carry (timestamps, counters, cgroup ids)
// fit in 2^53, and numbers keep every hot path free of Long objects.
(protobuf.util as { Long: unknown }).Long = undefined;
protobuf.configure();

export const PROTO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../proto');

const PROTO_FILES = [
  'flow/flow.proto',
  'relay/relay.proto',
  'observer/observer.proto',
  'peer/peer.proto',
  'flowscope/ingest.proto',
  'flowscope/insights.proto',
  'flowscope/kernel.proto',
  'flowscope/batch.proto',
  'flowscope/relay-status.proto',
];

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string) => {
    // google/protobuf/* come from protobufjs' bundled well-known types.
    if (target.startsWith('google/protobuf/')) return target;
    return path.isAbsolute(target) ? target : path.join(PROTO_DIR, target);
  };
  root.loadSync(PROTO_FILES, { keepCase: true });
  root.resolveAll();
  return root;
}

export const root = loadRoot();

export const types = {
  Flow: root.lookupType('flow.Flow'),
  FlowFilter: root.lookupType('flow.FlowFilter'),
  LostEvent: root.lookupType('flow.LostEvent'),
  GetFlowsRequest: root.lookupType('observer.GetFlowsRequest'),
  GetFlowsResponse: root.lookupType('observer.GetFlowsResponse'),
  ServerStatusRequest: root.lookupType('observer.ServerStatusRequest'),
  ServerStatusResponse: root.lookupType('observer.ServerStatusResponse'),
  GetNodesRequest: root.lookupType('observer.GetNodesRequest'),
  GetNodesResponse: root.lookupType('observer.GetNodesResponse'),
  GetNamespacesRequest: root.lookupType('observer.GetNamespacesRequest'),
  GetNamespacesResponse: root.lookupType('observer.GetNamespacesResponse'),
  GetAgentEventsRequest: root.lookupType('observer.GetAgentEventsRequest'),
  GetAgentEventsResponse: root.lookupType('observer.GetAgentEventsResponse'),
  GetDebugEventsRequest: root.lookupType('observer.GetDebugEventsRequest'),
  GetDebugEventsResponse: root.lookupType('observer.GetDebugEventsResponse'),
  IngestMessage: root.lookupType('flowscope.ingest.v1.IngestMessage'),
  FlowBatch: root.lookupType('flowscope.ingest.v1.FlowBatch'),
  IngestAck: root.lookupType('flowscope.ingest.v1.IngestAck'),
  KernelFlowInfo: root.lookupType('flowscope.kernel.v1.KernelFlowInfo'),
  DurableBatch: root.lookupType('flowscope.ingest.v1.DurableBatch'),
  InsightsRequest: root.lookupType('flowscope.insights.v1.InsightsRequest'),
  ServiceMapResponse: root.lookupType('flowscope.insights.v1.ServiceMapResponse'),
  TopTalkersResponse: root.lookupType('flowscope.insights.v1.TopTalkersResponse'),
  TopDropReasonsResponse: root.lookupType('flowscope.insights.v1.TopDropReasonsResponse'),
  LostEventsRequest: root.lookupType('flowscope.status.v1.LostEventsRequest'),
  LostEventsResponse: root.lookupType('flowscope.status.v1.LostEventsResponse'),
  WhyRequest: root.lookupType('flowscope.insights.v1.WhyRequest'),
  WhyReport: root.lookupType('flowscope.insights.v1.WhyReport'),
  NotifyRequest: root.lookupType('peer.NotifyRequest'),
  ChangeNotification: root.lookupType('peer.ChangeNotification'),
} as const;

export const enums = {
  Verdict: root.lookupEnum('flow.Verdict'),
  DropReason: root.lookupEnum('flow.DropReason'),
  FlowType: root.lookupEnum('flow.FlowType'),
  TrafficDirection: root.lookupEnum('flow.TrafficDirection'),
  TraceObservationPoint: root.lookupEnum('flow.TraceObservationPoint'),
  TraceReason: root.lookupEnum('flow.TraceReason'),
  IPVersion: root.lookupEnum('flow.IPVersion'),
  AuthType: root.lookupEnum('flow.AuthType'),
  LostEventSource: root.lookupEnum('flow.LostEventSource'),
  NodeState: root.lookupEnum('relay.NodeState'),
  L7FlowType: root.lookupEnum('flow.L7FlowType'),
  DebugCapturePoint: root.lookupEnum('flow.DebugCapturePoint'),
  WhyVerdict: root.lookupEnum('flowscope.insights.v1.WhyVerdict'),
  SocketTranslationPoint: root.lookupEnum('flow.SocketTranslationPoint'),
} as const;

/** Enum value name, or undefined for a number the enum does not define. */
export function enumName(e: protobuf.Enum, value: number): string | undefined {
  return e.valuesById[value];
}

/** Enum number for a name (exact, as in the .proto), or undefined. */
export function enumValue(e: protobuf.Enum, name: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(e.values, name) ? e.values[name] : undefined;
}

/** Encodes a plain message object (keepCase field names, enums as numbers). */
export function encode(type: protobuf.Type, message: object): Buffer {
  const w = type.encode(message as protobuf.Message);
  return Buffer.from(w.finish());
}

/** Decodes into a plain object: enums as numbers, 64-bit as numbers, no defaults filled in. */
export function decode<T>(type: protobuf.Type, bytes: Uint8Array): T {
  return type.toObject(type.decode(bytes), { longs: Number, enums: Number, defaults: false, arrays: false, objects: false, oneofs: false }) as T;
}

export * from './types.js';
