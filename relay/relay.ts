// The relay: accepts collector streams and makes their flows durable in storage (it forwards
// the collectors' blocks without looking inside), and serves the Hubble Observer API over
// history (storage, cut at the marks snapshot) + live (the collectors' own Observer APIs,
// merged in time order: relay/live-fanout.ts).
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type {
  GetNamespacesResponse,
  GetNodesResponse,
  LostEvent,
  LostEventsResponse,
  NodeStatusEvent,
  ObserverNode,
  ServerStatusResponse,
} from '../proto/types.js';
import { NodeState } from '../proto/types.js';
import {
  IngestService,
  InsightsService,
  ObserverService,
  OBSERVER_HEALTH_SERVICE,
  RelayStatusService,
  bindServer,
  startHealthServer,
  type HealthServer,
} from '../common/grpc-services.js';
import { addCountedService, countedServerOptions, counting } from '../common/grpc-server-metrics.js';
import { insightsHandlers, newInsightsStats, type InsightsStore, type InsightsStats } from './insights.js';
import type { Logger } from '../common/logger.js';
import { IngestBatcher, DEFAULT_BATCHER_OPTIONS, type BatcherOptions, type BatchPart } from './ingest/batcher.js';
import type { FlowSink } from './sinks/sink.js';
import { ClickHouseSink, type BatchStore } from './sinks/clickhouse-sink.js';
import { IngestServer } from './ingest/server.js';
import { NodeRegistry, type NodeRecord } from './nodes.js';
import { observerHandlers, type ObserverBackend } from '../observer/service.js';
import type { FlowHistory, LiveSource } from '../observer/get-flows.js';
import { PeerClients } from './peers.js';
import type { RelayTls } from './tls.js';
import { LiveFanout, DEFAULT_FANOUT_OPTIONS, type FanoutOptions } from './live-fanout.js';
import { FlowRateMeter } from '../common/rate.js';
import { VERSION } from '../common/version.js';
import { blockFirstTimeMs } from '../schema/native/flow-block.js';
import type { NodeRegistration } from '../storage/index.js';
import { GrpcAuth, type Authenticator, type CallAuth } from '../common/auth/grpc-auth.js';

const LOST_SOURCE_NAMES = ['unknown_lost_event_source', 'perf_event_ring_buffer', 'observer_events_queue', 'hubble_ring_buffer'];

/** What the relay needs from storage. */
export interface RelayStore extends BatchStore, FlowHistory, InsightsStore {
  durableSeq(session: string): Promise<number>;
  /** Per collector session, the greatest flow_seq stored: where history stops and live begins. */
  liveMarks(): Promise<Map<string, number>>;
  /** Shared store: take a collector session before reading its resume point. */
  claimSession?(session: string): Promise<void>;
  writeRegistrations?(regs: Array<Omit<NodeRegistration, 'relay' | 'ageMs'>>): Promise<void>;
  readRegistrations?(windowMs: number): Promise<NodeRegistration[]>;
  /** With a scope: the namespaces of the flows in it (its own and their peers). */
  namespaces(sinceMs: number, scope?: readonly string[]): Promise<Array<{ cluster: string; namespace: string }>>;
  close(): Promise<void>;
}

export interface RelayOptions {
  listen: string;
  nodeName: string;
  batcher?: Partial<BatcherOptions>;
  /** The live path: follower buffer, merge delay, collector polling (DEFAULT_FANOUT_OPTIONS). */
  follow?: Partial<FanoutOptions>;
  /** Where batches go (default: straight into the store). */
  sink?: FlowSink;
  /** Kafka mode: storage lags what the relay acked (see IngestServerDeps.tolerateResumeGaps). */
  tolerateResumeGaps?: boolean;
  /** Runs on stop after ingest drained, before storage closes (e.g. an in-process Kafka ingester). */
  beforeStoreClose?: () => Promise<void>;
  /** TLS listener, collector certificate checks and TLS to collectors (relay/tls.ts); absent: plaintext. */
  tls?: RelayTls;
  /** Several relays share the store: register collectors there and list the others' (ms). */
  shared?: { registrationIntervalMs: number; staleAfterMs: number };
  /** Plaintext grpc.health.v1 listener for probes (the gRPC port may be TLS); absent: none. */
  healthListen?: string;
  /** Bearer tokens (common/auth/token-file.ts) every Observer, Insights and RelayStatus call
   * must carry; absent: those services are open. Ingest (mTLS) and health are never guarded. */
  auth?: Authenticator;
}

export class Relay {
  readonly server = new grpc.Server(countedServerOptions({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 }));
  readonly nodes = new NodeRegistry();
  readonly batcher: IngestBatcher;
  readonly sink: FlowSink;
  readonly ingest: IngestServer;
  readonly fanout: LiveFanout;
  readonly health = new HealthImplementation({ '': 'NOT_SERVING', [OBSERVER_HEALTH_SERVICE]: 'NOT_SERVING' });
  private readonly peers: PeerClients;
  private readonly rate = new FlowRateMeter();
  private readonly startedMs = Date.now();
  readonly insightsStats: InsightsStats = newInsightsStats();
  /** Token checks of the query services (null: they are open); its `refused` counts feed metrics. */
  readonly auth: GrpcAuth | null;
  port = 0;
  /** Port of the plaintext health listener (`healthListen`), 0 without one. */
  healthPort = 0;
  private healthServer: HealthServer | null = null;
  /** Lost events reported by collectors, by Hubble LostEventSource name (metrics). */
  readonly lostBySource: Record<string, number> = { perf_event_ring_buffer: 0, observer_events_queue: 0, hubble_ring_buffer: 0 };
  /** Called once per durable insert with the oldest flow time (ms since epoch) in it (metrics hook). */
  onInsertDurable: ((oldestFlowMs: number) => void) | null = null;

  constructor(
    readonly store: RelayStore,
    private readonly opts: RelayOptions,
    private readonly log: Logger,
  ) {
    this.peers = new PeerClients(opts.tls?.peerCredentials ?? null);
    this.auth = opts.auth ? new GrpcAuth(opts.auth) : null;
    const guard = opts.tls?.guard;
    this.fanout = new LiveFanout(this.nodes, this.peers, log, { ...DEFAULT_FANOUT_OPTIONS, ...opts.follow });
    this.sink = opts.sink ?? new ClickHouseSink(store);
    this.batcher = new IngestBatcher(this.sink, (id, parts) => this.onDurable(id, parts), log, { ...DEFAULT_BATCHER_OPTIONS, ...opts.batcher });
    this.ingest = new IngestServer({
      batcher: this.batcher,
      nodes: this.nodes,
      log,
      // Held first: a spool replay clears it only after storage has the marks.
      durableSeq: async (s) => {
        // Claimed first: any insert of another relay for this session that storage has not
        // committed by now is refused, so the resume point read next is final.
        await store.claimSession?.(s);
        // Batches of this session's previous stream still on their way to storage (stored, or
        // dropped if fenced) before the resume point is read: else they would be sent again.
        await this.batcher.settled(s);
        const held = this.sink.heldSeq(s);
        return Math.max(await store.durableSeq(s), held);
      },
      onLostEvents: (node, evs) => this.onLostEvents(node, evs),
      tolerateResumeGaps: opts.tolerateResumeGaps ?? false,
      ...(guard ? { authorize: (call, node) => guard.checkCollector(call, node) } : {}),
    });
  }

  private registrationTimer: NodeJS.Timeout | null = null;
  private registering: Promise<void> | null = null;
  /** Registration rounds that failed (storage unreachable); the next round retries. */
  registrationErrors = 0;
  private stopping = false;

  /** Writes this relay's collectors to the shared store and reads the other relays' ones. */
  async refreshRegistrations(): Promise<void> {
    const shared = this.opts.shared;
    if (!shared || !this.store.writeRegistrations || !this.store.readRegistrations) return;
    const local = this.nodes.local();
    await this.store.writeRegistrations(
      local.map((n) => ({
        node: n.name,
        session: n.session,
        observerAddress: n.observerAddress,
        version: n.version,
        connected: n.connected,
        connectedAtMs: n.connectedAtMs,
      })),
    );
    const mine = new Set(local.filter((n) => n.connected).map((n) => n.name));
    const now = Date.now();
    const remote: NodeRecord[] = [];
    for (const r of await this.store.readRegistrations(shared.staleAfterMs * 10)) {
      if (mine.has(r.node)) continue;
      // Fresh while its relay keeps writing it; a dead relay's collectors turn unavailable.
      const connected = r.connected && r.ageMs <= shared.staleAfterMs;
      remote.push({
        name: r.node,
        session: r.session,
        observerAddress: r.observerAddress,
        version: r.version,
        connected,
        connectedAtMs: r.connectedAtMs,
        disconnectedAtMs: connected ? 0 : now - r.ageMs,
        durableFlows: 0,
        lastFlowAtMs: 0,
        relay: r.relay,
      });
    }
    this.nodes.setRemote(remote);
  }

  async start(): Promise<void> {
    addCountedService(this.server, IngestService, { Push: this.ingest.handle } as grpc.UntypedServiceImplementation);
    const guard = (def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation) => (this.auth ? this.auth.guardService(def, impl) : impl);
    addCountedService(this.server, ObserverService, guard(ObserverService, observerHandlers(this.backend())));
    addCountedService(this.server, InsightsService, guard(InsightsService, insightsHandlers(this.store, this.log, this.insightsStats)));
    // Lost-event totals are per collector and source, with no namespace in them: any valid token.
    addCountedService(
      this.server,
      RelayStatusService,
      guard(RelayStatusService, {
        LostEvents: (_call: unknown, cb: grpc.sendUnaryData<LostEventsResponse>) => cb(null, this.lostEvents()),
      } as grpc.UntypedServiceImplementation),
    );
    this.health.addToServer(counting(this.server));
    if (this.opts.healthListen) {
      // Up first, answering NOT_SERVING until the main port serves.
      this.healthServer = await startHealthServer(this.opts.healthListen, this.health);
      this.healthPort = this.healthServer.port;
    }
    try {
      this.port = await bindServer(this.server, this.opts.listen, this.opts.tls?.credentials);
    } catch (err) {
      await this.healthServer?.close();
      throw err;
    }
    this.health.setStatus('', 'SERVING');
    this.health.setStatus(OBSERVER_HEALTH_SERVICE, 'SERVING');
    if (this.opts.shared) {
      this.batcher.onFenced = (sessions) => this.ingest.release(sessions);
      // The next round is scheduled when this one ends, never on a fixed beat: on a slow store a
      // round can outlast the interval, and overlapping rounds would pile writes onto it.
      const interval = this.opts.shared.registrationIntervalMs;
      const tick = () => {
        this.registrationTimer = null;
        this.registering = this.refreshRegistrations()
          .catch((err: Error) => {
            this.registrationErrors++;
            this.log.warn({ err: err.message }, 'collector registrations not refreshed');
          })
          .finally(() => {
            this.registering = null;
            if (!this.stopping) this.registrationTimer = setTimeout(tick, interval);
          });
      };
      tick();
    }
    this.log.info(
      {
        listen: this.opts.listen,
        port: this.port,
        tls: !!this.opts.tls?.files.length,
        auth: !!this.auth,
        ...(this.healthServer ? { health: this.healthPort } : {}),
      },
      'relay listening',
    );
  }

  /** Stops accepting, flushes what was accepted to storage, then closes storage. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.registrationTimer) clearTimeout(this.registrationTimer);
    this.registrationTimer = null;
    await this.registering;
    this.health.setStatus('', 'NOT_SERVING');
    this.health.setStatus(OBSERVER_HEALTH_SERVICE, 'NOT_SERVING');
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 3000);
      this.server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
    await this.batcher.drain();
    await this.sink.close();
    await this.opts.beforeStoreClose?.();
    this.peers.close();
    this.opts.tls?.close();
    await this.store.close();
    // Last: probes see NOT_SERVING, not a refused connection, while the relay drains.
    await this.healthServer?.close();
  }

  private onDurable(_batchId: number, parts: BatchPart[]): void {
    // Followers do not depend on this: they read the collectors' rings (live-fanout.ts).
    let n = 0;
    let oldestMs = 0;
    for (const p of parts) {
      if (p.block === null) continue;
      n += p.rows;
      // The first row's time only (for the lag metric), read from the block's header bytes.
      const ms = blockFirstTimeMs(p.block);
      if (ms > 0 && (oldestMs === 0 || ms < oldestMs)) oldestMs = ms;
    }
    this.rate.add(n);
    this.onInsertDurable?.(oldestMs);
    this.ingest.acknowledge(parts);
  }

  private onLostEvents(node: string, events: LostEvent[]): void {
    this.log.warn({ node, lost: events.reduce((s, e) => s + (e.num_events_lost ?? 0), 0) }, 'collector reported lost events');
    for (const e of events) {
      const source = LOST_SOURCE_NAMES[e.source ?? 0] ?? 'unknown_lost_event_source';
      this.lostBySource[source] = (this.lostBySource[source] ?? 0) + (e.num_events_lost ?? 0);
    }
    // Followers get these from the collector's own stream, where they sit among its flows.
  }

  /** The lost-event totals by source (the RelayStatus service, the HTTP API's status route). */
  lostEvents(): LostEventsResponse {
    return { sources: Object.entries(this.lostBySource).map(([source, events]) => ({ source, events })) };
  }

  private preamble(): NodeStatusEvent[] {
    const out: NodeStatusEvent[] = [];
    const connected = this.nodes.connected().map((n) => n.name);
    const unavailable = this.nodes.unavailable().map((n) => n.name);
    if (connected.length) out.push({ state_change: NodeState.NODE_CONNECTED, node_names: connected });
    if (unavailable.length) out.push({ state_change: NodeState.NODE_UNAVAILABLE, node_names: unavailable });
    return out;
  }

  async serverStatus(): Promise<ServerStatusResponse> {
    const nodes = await this.nodeDetails();
    const reachable = nodes.filter((n) => n.state === NodeState.NODE_CONNECTED);
    const unavailable = nodes.filter((n) => n.state !== NodeState.NODE_CONNECTED);
    const sum = (k: 'num_flows' | 'max_flows' | 'seen_flows') => reachable.reduce((s, n) => s + (n[k] ?? 0), 0);
    return {
      num_flows: sum('num_flows'),
      max_flows: sum('max_flows'),
      seen_flows: sum('seen_flows'),
      uptime_ns: (Date.now() - this.startedMs) * 1e6,
      num_connected_nodes: { value: reachable.length },
      num_unavailable_nodes: { value: unavailable.length },
      unavailable_nodes: unavailable.slice(0, 10).map((n) => n.name!),
      version: `flowscope-relay v${VERSION}`,
      flows_rate: this.rate.rate(),
    };
  }

  /** Every known collector, with the counters of its own Observer API where it answers. */
  async nodeDetails(): Promise<ObserverNode[]> {
    return Promise.all(
      this.nodes.list().map(async (n): Promise<ObserverNode> => {
        const base: ObserverNode = {
          name: n.name,
          address: n.observerAddress,
          version: n.version,
          tls: { enabled: this.peers.tls, server_name: this.opts.tls?.peerServerName?.(n.name) ?? '' },
        };
        if (!n.connected) return { ...base, state: NodeState.NODE_UNAVAILABLE };
        if (!n.observerAddress)
          return { ...base, state: NodeState.NODE_CONNECTED, uptime_ns: (Date.now() - n.connectedAtMs) * 1e6, seen_flows: n.durableFlows };
        try {
          const s = await this.peers.serverStatus(n.observerAddress, n.name);
          return {
            ...base,
            state: NodeState.NODE_CONNECTED,
            version: s.version ?? n.version,
            uptime_ns: s.uptime_ns,
            num_flows: s.num_flows,
            max_flows: s.max_flows,
            seen_flows: s.seen_flows,
          };
        } catch (err) {
          this.log.debug({ node: n.name, err: (err as Error).message }, 'collector ServerStatus failed');
          return { ...base, state: NodeState.NODE_ERROR };
        }
      }),
    );
  }

  /** History is cut at a marks snapshot; live flows continue after it from the collectors. */
  private liveSource(): LiveSource {
    return {
      snapshot: async () => ({ upTo: 0, marks: await this.store.liveMarks() }),
      follow: async (req, ctx) => {
        // Marks first: the collectors resume after them, history stops at them.
        const marks = ctx.onlyNew ? null : await this.store.liveMarks();
        const stream = this.fanout.open(req, marks, ctx.maskAtSource);
        return { cut: { upTo: 0, marks: marks ?? new Map() }, stream, resumed: false };
      },
    };
  }

  private backend(): ObserverBackend {
    return {
      history: this.store,
      live: this.liveSource(),
      serverNodeName: this.opts.nodeName,
      preamble: () => this.preamble(),
      versionHeader: ['hubble-relay-version', VERSION],
      // The flow counts of the whole cluster are no scoped token's business: refused, not scoped
      // (counting one scope's flows would be a storage query per status call).
      serverStatus: async (auth?: CallAuth) => {
        if (auth?.scope) throw auth.forbidden();
        return this.serverStatus();
      },
      // Node names and states for anyone authenticated; a scoped token gets no flow counters.
      getNodes: async (auth?: CallAuth): Promise<GetNodesResponse> => {
        const nodes = await this.nodeDetails();
        if (!auth?.scope) return { nodes };
        return { nodes: nodes.map(({ num_flows: _n, max_flows: _m, seen_flows: _s, ...rest }) => rest) };
      },
      getNamespaces: async (auth?: CallAuth): Promise<GetNamespacesResponse> => ({
        namespaces: await this.store.namespaces(Date.now() - 3600_000, auth?.scope ? [...auth.scope] : undefined),
      }),
    };
  }
}
