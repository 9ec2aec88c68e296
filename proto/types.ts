// TypeScript shapes of the proto messages as flowscope handles them in memory: proto field
// names exactly as written in the .proto (keepCase), enums as numbers, 64-bit integers as
// numbers, absent fields undefined. These objects encode directly with protobufjs.

export interface Timestamp {
  seconds: number;
  nanos: number;
}
export interface BoolValue {
  value: boolean;
}
export interface UInt32Value {
  value: number;
}
export interface Int32Value {
  value: number;
}

export interface Emitter {
  name?: string;
  version?: string;
}
export interface Ethernet {
  source?: string;
  destination?: string;
}
export interface IP {
  source?: string;
  source_xlated?: string;
  destination?: string;
  ipVersion?: number;
  encrypted?: boolean;
}
export interface TCPFlags {
  FIN?: boolean;
  SYN?: boolean;
  RST?: boolean;
  PSH?: boolean;
  ACK?: boolean;
  URG?: boolean;
  ECE?: boolean;
  CWR?: boolean;
  NS?: boolean;
}
export interface TCP {
  source_port?: number;
  destination_port?: number;
  flags?: TCPFlags;
}
export interface UDP {
  source_port?: number;
  destination_port?: number;
}
export interface SCTP {
  source_port?: number;
  destination_port?: number;
}
export interface ICMP {
  type?: number;
  code?: number;
}
export interface VRRP {
  type?: number;
  vrid?: number;
  priority?: number;
}
export interface IGMP {
  type?: number;
  group_address?: string;
}
export interface Layer4 {
  TCP?: TCP;
  UDP?: UDP;
  ICMPv4?: ICMP;
  ICMPv6?: ICMP;
  SCTP?: SCTP;
  VRRP?: VRRP;
  IGMP?: IGMP;
}
export interface Tunnel {
  protocol?: number;
  IP?: IP;
  l4?: Layer4;
  vni?: number;
}
export interface Workload {
  name?: string;
  kind?: string;
}
export interface Endpoint {
  ID?: number;
  identity?: number;
  cluster_name?: string;
  namespace?: string;
  labels?: string[];
  pod_name?: string;
  workloads?: Workload[];
}
export interface DNS {
  query?: string;
  ips?: string[];
  ttl?: number;
  cnames?: string[];
  observation_source?: string;
  rcode?: number;
  qtypes?: string[];
  rrtypes?: string[];
}
export interface HTTPHeader {
  key?: string;
  value?: string;
}
export interface HTTP {
  code?: number;
  method?: string;
  url?: string;
  protocol?: string;
  headers?: HTTPHeader[];
}
export interface Kafka {
  error_code?: number;
  api_version?: number;
  api_key?: string;
  correlation_id?: number;
  topic?: string;
}
export interface Layer7 {
  type?: number;
  latency_ns?: number;
  dns?: DNS;
  http?: HTTP;
  kafka?: Kafka;
}
export interface CiliumEventType {
  type?: number;
  sub_type?: number;
}
export interface Service {
  name?: string;
  namespace?: string;
}
export interface FileInfo {
  name?: string;
  line?: number;
}
export interface IPTraceID {
  trace_id?: number;
  ip_option_type?: number;
}
export interface NetworkInterface {
  index?: number;
  name?: string;
}
export interface TraceContext {
  parent?: { trace_id?: string };
}
export interface Policy {
  name?: string;
  namespace?: string;
  labels?: string[];
  revision?: number;
  kind?: string;
}
export interface Aggregate {
  ingress_flow_count?: number;
  egress_flow_count?: number;
  unknown_direction_flow_count?: number;
}

/** google.protobuf.Any: a packed message and the URL naming its type. */
export interface Any {
  type_url?: string;
  value?: Uint8Array;
}

export interface Flow {
  time?: Timestamp;
  uuid?: string;
  emitter?: Emitter;
  verdict?: number;
  drop_reason?: number;
  auth_type?: number;
  ethernet?: Ethernet;
  IP?: IP;
  l4?: Layer4;
  tunnel?: Tunnel;
  source?: Endpoint;
  destination?: Endpoint;
  Type?: number;
  node_name?: string;
  node_labels?: string[];
  source_names?: string[];
  destination_names?: string[];
  l7?: Layer7;
  reply?: boolean;
  event_type?: CiliumEventType;
  source_service?: Service;
  destination_service?: Service;
  traffic_direction?: number;
  policy_match_type?: number;
  trace_observation_point?: number;
  trace_reason?: number;
  file?: FileInfo;
  ip_trace_id?: IPTraceID;
  drop_reason_desc?: number;
  is_reply?: BoolValue;
  debug_capture_point?: number;
  interface?: NetworkInterface;
  proxy_port?: number;
  trace_context?: TraceContext;
  sock_xlate_point?: number;
  socket_cookie?: number;
  cgroup_id?: number;
  Summary?: string;
  egress_allowed_by?: Policy[];
  ingress_allowed_by?: Policy[];
  egress_denied_by?: Policy[];
  ingress_denied_by?: Policy[];
  policy_log?: string[];
  aggregate?: Aggregate;
  /** google.protobuf.Any; flowscope's kernel probe puts a KernelFlowInfo here (proto/kernel.ts). */
  extensions?: Any;
}

export interface LostEvent {
  source?: number;
  num_events_lost?: number;
  cpu?: Int32Value;
  first?: Timestamp;
  last?: Timestamp;
}

export interface EventTypeFilter {
  type?: number;
  match_sub_type?: boolean;
  sub_type?: number;
}

export interface FlowFilter {
  /** flowscope extension: the kernel probe's drop reason names (KernelFlowInfo.drop_reason_name). */
  kernel_drop_reason?: string[];
  uuid?: string[];
  source_ip?: string[];
  source_ip_xlated?: string[];
  source_pod?: string[];
  source_fqdn?: string[];
  source_label?: string[];
  source_service?: string[];
  source_workload?: Workload[];
  source_cluster_name?: string[];
  destination_ip?: string[];
  destination_pod?: string[];
  destination_fqdn?: string[];
  destination_label?: string[];
  destination_service?: string[];
  destination_workload?: Workload[];
  destination_cluster_name?: string[];
  traffic_direction?: number[];
  verdict?: number[];
  drop_reason_desc?: number[];
  interface?: NetworkInterface[];
  event_type?: EventTypeFilter[];
  http_status_code?: string[];
  protocol?: string[];
  source_port?: string[];
  destination_port?: string[];
  reply?: boolean[];
  dns_query?: string[];
  source_identity?: number[];
  destination_identity?: number[];
  http_method?: string[];
  http_path?: string[];
  http_url?: string[];
  http_header?: HTTPHeader[];
  tcp_flags?: TCPFlags[];
  node_name?: string[];
  node_labels?: string[];
  ip_version?: number[];
  trace_id?: string[];
  ip_trace_id?: number[];
  encrypted?: boolean[];
  experimental?: { cel_expression?: string[] };
}

export interface FieldMask {
  paths?: string[];
}

export interface GetFlowsRequest {
  number?: number;
  first?: boolean;
  follow?: boolean;
  blacklist?: FlowFilter[];
  whitelist?: FlowFilter[];
  since?: Timestamp;
  until?: Timestamp;
  field_mask?: FieldMask;
  experimental?: { field_mask?: FieldMask };
}

export interface NodeStatusEvent {
  state_change?: number;
  node_names?: string[];
  message?: string;
}

export interface GetFlowsResponse {
  flow?: Flow;
  node_status?: NodeStatusEvent;
  lost_events?: LostEvent;
  node_name?: string;
  time?: Timestamp;
}

export interface ServerStatusResponse {
  num_flows?: number;
  max_flows?: number;
  seen_flows?: number;
  uptime_ns?: number;
  num_connected_nodes?: UInt32Value;
  num_unavailable_nodes?: UInt32Value;
  unavailable_nodes?: string[];
  version?: string;
  flows_rate?: number;
}

export interface ObserverNode {
  name?: string;
  version?: string;
  address?: string;
  state?: number;
  tls?: { enabled?: boolean; server_name?: string };
  uptime_ns?: number;
  num_flows?: number;
  max_flows?: number;
  seen_flows?: number;
}

export interface GetNodesResponse {
  nodes?: ObserverNode[];
}
export interface Namespace {
  cluster?: string;
  namespace?: string;
}
export interface GetNamespacesResponse {
  namespaces?: Namespace[];
}

export interface Hello {
  node_name?: string;
  session_id?: string;
  observer_address?: string;
  version?: string;
  started?: Timestamp;
}
export interface FlowBatch {
  seq?: number;
  flows?: Flow[];
  lost_events?: LostEvent[];
  block?: Uint8Array;
}
export interface IngestMessage {
  hello?: Hello;
  batch?: FlowBatch;
}
export interface IngestAck {
  durable_seq?: number;
  resume?: boolean;
  error?: string;
}

// Enum values used in code, named as in flow.proto.
export const Verdict = { VERDICT_UNKNOWN: 0, FORWARDED: 1, DROPPED: 2, ERROR: 3, AUDIT: 4, REDIRECTED: 5, TRACED: 6, TRANSLATED: 7 } as const;
export const FlowType = { UNKNOWN_TYPE: 0, L3_L4: 1, L7: 2, SOCK: 3 } as const;
export const TrafficDirection = { TRAFFIC_DIRECTION_UNKNOWN: 0, INGRESS: 1, EGRESS: 2 } as const;
export const IPVersion = { IP_NOT_USED: 0, IPv4: 1, IPv6: 2 } as const;
export const LostEventSource = { UNKNOWN_LOST_EVENT_SOURCE: 0, PERF_EVENT_RING_BUFFER: 1, OBSERVER_EVENTS_QUEUE: 2, HUBBLE_RING_BUFFER: 3 } as const;
export const NodeState = { UNKNOWN_NODE_STATE: 0, NODE_CONNECTED: 1, NODE_UNAVAILABLE: 2, NODE_GONE: 3, NODE_ERROR: 4 } as const;
export const L7FlowType = { UNKNOWN_L7_TYPE: 0, REQUEST: 1, RESPONSE: 2, SAMPLE: 3 } as const;
/** Cilium monitor message types (byte 0 of every perf payload). */
export const MessageType = { DROP: 1, DEBUG: 2, CAPTURE: 3, TRACE: 4, POLICY_VERDICT: 5, RECORDER: 6, TRACE_SOCK: 7, ACCESS_LOG: 129, AGENT: 130 } as const;

// flowscope.insights.v1
export interface InsightsRequest {
  since?: Timestamp;
  until?: Timestamp;
  namespace?: string;
  limit?: number;
  cluster?: string;
}
export interface ServiceEdge {
  source_namespace?: string;
  source_workload?: string;
  destination_namespace?: string;
  destination_workload?: string;
  protocol?: string;
  destination_port?: number;
  flows?: number;
  dropped?: number;
  bytes?: number;
}
export interface ServiceMapResponse {
  edges?: ServiceEdge[];
}
export interface Talker {
  namespace?: string;
  workload?: string;
  flows?: number;
  bytes?: number;
  peers?: number;
}
export interface TopTalkersResponse {
  talkers?: Talker[];
}
export interface DropReasonCount {
  drop_reason?: number;
  source_namespace?: string;
  destination_namespace?: string;
  flows?: number;
}
export interface TopDropReasonsResponse {
  reasons?: DropReasonCount[];
}
export interface LostEventsCount {
  source?: string;
  events?: number;
}
export interface LostEventsResponse {
  sources?: LostEventsCount[];
}
export interface WhyRequest {
  pair?: FlowFilter;
  since?: Timestamp;
  until?: Timestamp;
  limit?: number;
}
export const WhyVerdict = { WHY_VERDICT_UNKNOWN: 0, REACHABLE: 1, BLOCKED: 2, PARTLY_FAILING: 3, NO_TRAFFIC: 4 } as const;
export interface WhyDirection {
  flows?: number;
  forwarded?: number;
  dropped?: number;
  error?: number;
  audit?: number;
  replies?: number;
  first_seen?: Timestamp;
  last_seen?: Timestamp;
  last_forwarded?: Timestamp;
  first_dropped?: Timestamp;
}
export interface WhyDrop {
  reverse?: boolean;
  drop_reason?: number;
  drop_reason_text?: string;
  kernel_drop_reason?: string;
  traffic_direction?: number;
  observation_point?: string;
  node?: string;
  flows?: number;
  first_seen?: Timestamp;
  last_seen?: Timestamp;
  observe_command?: string;
}
export interface WhyPolicyVerdict {
  reverse?: boolean;
  verdict?: number;
  traffic_direction?: number;
  enforced_by?: string;
  match_type?: string;
  drop_reason?: number;
  node?: string;
  events?: number;
  first_seen?: Timestamp;
  last_seen?: Timestamp;
  observe_command?: string;
}
export interface WhyPolicy {
  verdicts?: WhyPolicyVerdict[];
  denied?: number;
  allowed?: number;
  forwarded_in_range?: boolean;
  last_forwarded?: Timestamp;
  first_denied?: Timestamp;
}
export interface WhyDnsName {
  query?: string;
  related?: boolean;
  requests?: number;
  responses?: number;
  unanswered?: number;
  no_error?: number;
  nxdomain?: number;
  servfail?: number;
  other_errors?: number;
  answers_with_destination?: number;
  answers?: string[];
  first_seen?: Timestamp;
  last_seen?: Timestamp;
}
export interface WhyDns {
  destination_names?: string[];
  destination_addresses?: string[];
  names?: WhyDnsName[];
}
export interface WhyIcmpError {
  family?: string;
  type?: number;
  code?: number;
  meaning?: string;
  from?: string;
  from_destination?: boolean;
  node?: string;
  count?: number;
  first_seen?: Timestamp;
  last_seen?: Timestamp;
}
export interface WhyTransport {
  syn_connections?: number;
  syn_ack_connections?: number;
  unanswered_connections?: number;
  refused_connections?: number;
  rst_from_destination?: number;
  rst_from_source?: number;
  syn_packets?: number;
  first_unanswered?: Timestamp;
  last_unanswered?: Timestamp;
  icmp_errors?: WhyIcmpError[];
}
export interface WhyPath {
  source_nodes?: string[];
  destination_nodes?: string[];
  placement?: string;
  tunnel?: boolean;
  overlay_events?: number;
}
export interface WhyHistory {
  from?: Timestamp;
  until?: Timestamp;
  workload_pairs?: string[];
  forwarded_before?: number;
  dropped_before?: number;
  last_forwarded?: Timestamp;
  first_dropped?: Timestamp;
}
export interface WhyFinding {
  kind?: string;
  severity?: string;
  summary?: string;
  next_steps?: string[];
  observe_command?: string;
}
export interface WhyReport {
  verdict?: number;
  summary?: string;
  source?: string;
  destination?: string;
  since?: Timestamp;
  until?: Timestamp;
  forward?: WhyDirection;
  reverse?: WhyDirection;
  drops?: WhyDrop[];
  policy?: WhyPolicy;
  dns?: WhyDns;
  transport?: WhyTransport;
  path?: WhyPath;
  history?: WhyHistory;
  findings?: WhyFinding[];
}
