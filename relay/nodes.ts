// The collectors the relay knows: who is connected now, who was and went away, and what each
// delivered. Hubble Relay learns peers from the peer service; flowscope learns them from the
// ingest streams the collectors open, and, when several relays share one store, from the
// registrations the other relays write there (setRemote): a collector connected to another
// relay is listed as connected while that relay keeps its registration fresh.
export interface NodeRecord {
  name: string;
  session: string;
  observerAddress: string;
  version: string;
  connected: boolean;
  connectedAtMs: number;
  disconnectedAtMs: number;
  durableFlows: number;
  lastFlowAtMs: number;
  /** The relay the collector is connected to ('' for this one). */
  relay?: string;
}

export class NodeRegistry {
  private readonly nodes = new Map<string, NodeRecord>();
  private remote = new Map<string, NodeRecord>();

  constructor(private readonly forgetAfterMs = 60 * 60 * 1000) {}

  connect(name: string, session: string, observerAddress: string, version: string): NodeRecord {
    const prev = this.nodes.get(name);
    const rec: NodeRecord = {
      name,
      session,
      observerAddress,
      version,
      connected: true,
      connectedAtMs: Date.now(),
      disconnectedAtMs: 0,
      durableFlows: prev?.durableFlows ?? 0,
      lastFlowAtMs: prev?.lastFlowAtMs ?? 0,
    };
    this.nodes.set(name, rec);
    return rec;
  }

  disconnect(name: string, session: string): void {
    const rec = this.nodes.get(name);
    // A newer session of the same node may already have replaced this one.
    if (rec && rec.session === session) {
      rec.connected = false;
      rec.disconnectedAtMs = Date.now();
    }
  }

  recordDurable(name: string, flows: number): void {
    const rec = this.nodes.get(name);
    if (!rec) return;
    rec.durableFlows += flows;
    rec.lastFlowAtMs = Date.now();
  }

  /** Collectors of the other relays (replaces the previous set). */
  setRemote(records: readonly NodeRecord[]): void {
    this.remote = new Map(records.map((r) => [r.name, r]));
  }

  /** Collectors connected to this relay (what it registers for the others). */
  local(): NodeRecord[] {
    return [...this.nodes.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  list(): NodeRecord[] {
    const now = Date.now();
    for (const [k, r] of this.nodes) if (!r.connected && now - r.disconnectedAtMs > this.forgetAfterMs) this.nodes.delete(k);
    const out = new Map(this.nodes);
    // A collector connected here is listed from here; one that moved to another relay (or was
    // never here) from that relay's registration.
    for (const [k, r] of this.remote) {
      const mine = out.get(k);
      if (!mine || (!mine.connected && (r.connected || r.disconnectedAtMs > mine.disconnectedAtMs))) out.set(k, r);
    }
    return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  connected(): NodeRecord[] {
    return this.list().filter((n) => n.connected);
  }
  unavailable(): NodeRecord[] {
    return this.list().filter((n) => !n.connected);
  }
}
