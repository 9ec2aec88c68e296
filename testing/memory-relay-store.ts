// The relay's storage, in memory, for relay tests: counts the rows of the blocks it is given (and
// with `decode`, keeps their flows for history queries), records ingest marks, and fails the
// next inserts on demand.
import type { RelayStore } from '../relay/relay.js';
import type { HistoryQuery } from '../observer/get-flows.js';
import type { Flow } from '../proto/types.js';
import type { IngestMark } from '../storage/index.js';
import { blockProvenance, blockRows, blockToFlows } from '../schema/native/flow-block.js';

export class MemoryRelayStore implements RelayStore {
  /** The stored flows with their batch id and provenance (only with `decode`). */
  rows: Array<{ flow: Flow; batchId: number; session: string; seq: number }> = [];
  /** Greatest flow_seq stored per collector session (liveMarks). */
  marks = new Map<string, number>();
  /** Awaited before an insert is stored (a slow storage: inserts held until it resolves). */
  beforeInsert: (() => Promise<void>) | null = null;
  /** Rows stored, from the blocks' headers. */
  rowCount = 0;
  seqs = new Map<string, number>();
  /** Inserts that fail before the next one succeeds. */
  failNext = 0;
  /** Awaited after the first history row is yielded (a history read that is still streaming). */
  midQuery: (() => Promise<void>) | null = null;

  /** `decode`: keep the flows (history queries, uuid checks); off, blocks are never looked into. */
  constructor(private readonly opts: { decode?: boolean } = { decode: true }) {}

  async insertBlocks(blocks: readonly Buffer[], progress: readonly IngestMark[], batchId: number): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('injected failure');
    }
    await this.beforeInsert?.();
    for (const b of blocks) {
      this.rowCount += blockRows(b);
      if (!this.opts.decode) continue;
      const prov = blockProvenance(b);
      blockToFlows(b).forEach((flow, i) => {
        const { session, seq } = prov[i];
        this.rows.push({ flow, batchId, session, seq });
        if (session !== '') this.marks.set(session, Math.max(this.marks.get(session) ?? 0, seq));
      });
    }
    for (const p of progress) this.seqs.set(p.session, Math.max(this.seqs.get(p.session) ?? 0, p.seq));
  }
  async storedRows(batchId: number): Promise<number> {
    return this.rows.filter((r) => r.batchId === batchId).length;
  }
  async durableSeq(session: string): Promise<number> {
    return this.seqs.get(session) ?? 0;
  }
  async liveMarks(): Promise<Map<string, number>> {
    return new Map(this.marks);
  }
  async *query(q: HistoryQuery): AsyncIterable<Flow> {
    let first = true;
    // The same cut as storage/query.ts: rows without a session always, others up to their mark.
    const inCut = (r: { session: string; seq: number }) => r.session === '' || q.marks === undefined || r.seq <= (q.marks.get(r.session) ?? 0);
    for (const r of this.rows) {
      if (inCut(r) && q.predicate(r.flow)) yield r.flow;
      if (first && this.midQuery) {
        first = false;
        await this.midQuery();
      }
    }
  }
  async namespaces(): Promise<Array<{ cluster: string; namespace: string }>> {
    return [];
  }
  async serviceMap(): Promise<never[]> {
    return [];
  }
  async topTalkers(): Promise<never[]> {
    return [];
  }
  async whyEvidence(): Promise<never> {
    throw new Error('the in-memory relay store answers no why questions');
  }
  async topDropReasons(): Promise<never[]> {
    return [];
  }
  async close(): Promise<void> {}
}
