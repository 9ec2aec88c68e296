export { FlowStore, type FlowStoreOptions, type IngestMark, type FlowQuery, type NamespaceSeen, type NodeSeen } from './store.js';
export { openClient, type ConnectionOptions } from './client.js';
