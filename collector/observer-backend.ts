// The collector's own Observer API (port 4244, like a Hubble agent): its ring is the history.
import type { GetNamespacesResponse, Namespace, ServerStatusResponse } from '../proto/types.js';
import type { ObserverBackend } from '../observer/service.js';
import { feedLiveSource } from '../observer/get-flows.js';
import { SESSION_HEADER } from '../observer/resume.js';
import type { LiveFeed } from '../observer/live.js';
import type { FlowRing } from './ring.js';
import { msToTimestamp } from '../common/time.js';
import type { FlowRateMeter } from '../common/rate.js';

export function collectorObserverBackend(opts: {
  nodeName: string;
  version: string;
  ring: FlowRing;
  live: LiveFeed;
  rate: FlowRateMeter;
  startedMs: number;
  /** The session the ring's cursors belong to (the shipper's: rows carry it as flow_session). */
  session: string;
  /** Counts GetFlows requests refused for a malformed resume header. */
  onInvalidResume?: () => void;
}): ObserverBackend {
  const { ring, live } = opts;
  return {
    history: ring,
    live: feedLiveSource(live, opts.session, opts.onInvalidResume),
    serverNodeName: opts.nodeName,
    versionHeader: ['hubble-server-version', opts.version],
    flowsHeaders: [[SESSION_HEADER, opts.session]],
    async serverStatus(): Promise<ServerStatusResponse> {
      return {
        num_flows: ring.length,
        max_flows: ring.capacity,
        seen_flows: ring.seen,
        uptime_ns: (Date.now() - opts.startedMs) * 1e6,
        version: `flowscope-collector v${opts.version}`,
        flows_rate: opts.rate.rate(),
      };
    },
    async getNamespaces(): Promise<GetNamespacesResponse> {
      const hourAgo = msToTimestamp(Date.now() - 3600_000);
      const seen = new Map<string, Namespace>();
      // The ring's own query: it lets the collector's loop run while it rebuilds the flows.
      const all = { whitelist: [], blacklist: [], predicate: () => true, number: 0, first: true, upTo: ring.seen, since: hourAgo };
      for await (const f of ring.query({ ...all, signal: new AbortController().signal })) {
        for (const ep of [f.source, f.destination]) {
          if (ep?.namespace) seen.set(`${ep.cluster_name ?? ''}/${ep.namespace}`, { cluster: ep.cluster_name ?? '', namespace: ep.namespace });
        }
      }
      return {
        namespaces: [...seen.values()].sort((a, b) => (a.cluster ?? '').localeCompare(b.cluster ?? '') || (a.namespace ?? '').localeCompare(b.namespace ?? '')),
      };
    },
  };
}
