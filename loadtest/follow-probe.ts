// The follow-latency probe: a `GetFlows(follow)` client on the relay, as `observe --follow`
// would be, that compares each flow's time (the record's time, stamped by the collector's
// source) with the time it arrived here. It follows a sample — drop events only, as
// `observe --follow --type drop` asks (no field mask: the relay forwards those flows as the
// collectors encoded them) — so that the probe itself does not load this process much; the
// sample takes the same path as every other flow (collector ring → merge → live).
import { ObserverApiClient } from '../api/client.js';
import { timestampToNs } from '../common/time.js';
import type { GetFlowsRequest } from '../proto/types.js';

/** Hubble's CiliumEventType DROP. */
const DROP_EVENT = 1;

export class FollowProbe {
  private readonly client: ObserverApiClient;
  private readonly abort = new AbortController();
  private done: Promise<void> | null = null;
  /** [receive time ms, latency ms] per flow. */
  private readonly samples: Array<[number, number]> = [];
  flows = 0;
  /** Flows the relay reported as lost to this follower (its queue overflowed). */
  lostEvents = 0;
  error: Error | null = null;

  constructor(relay: string) {
    this.client = new ObserverApiClient(relay);
  }

  start(): void {
    const req: GetFlowsRequest = { follow: true, whitelist: [{ event_type: [{ type: DROP_EVENT }] }] };
    this.done = this.client
      .getFlows(
        req,
        (r) => {
          if (r.lost_events) {
            this.lostEvents += r.lost_events.num_events_lost ?? 0;
            return;
          }
          if (!r.flow) return;
          const now = Date.now();
          this.flows++;
          // Bounded: one sample per flow is kept only up to a million (ample for percentiles).
          if (this.samples.length < 1_000_000) this.samples.push([now, now - timestampToNs(r.flow.time ?? r.time) / 1e6]);
        },
        this.abort.signal,
      )
      .catch((err: Error) => {
        this.error = err;
      });
  }

  /** Latencies (ms) of flows received in [fromMs, toMs]. */
  latencies(fromMs: number, toMs: number): number[] {
    const out: number[] = [];
    for (const [t, l] of this.samples) if (t >= fromMs && t <= toMs) out.push(l);
    return out;
  }

  async stop(): Promise<void> {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    await this.done;
    this.client.close();
  }
}
