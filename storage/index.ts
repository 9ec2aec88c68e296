export {
  FlowStore,
  FencedError,
  type FlowStoreOptions,
  type IngestMark,
  type FlowQuery,
  type NamespaceSeen,
  type NodeSeen,
  type RollupRange,
  type ServiceEdge,
  type Talker,
  type DropReasonCount,
  type WhyQuery,
  type WhyEvidence,
} from './store.js';
export { openClient, type ConnectionOptions } from './client.js';
export type { NodeRegistration } from './shared.js';
