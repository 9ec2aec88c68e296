// An enricher names what the decoder could only number: endpoints, services, reserved identities.
import type { Flow } from '../../proto/types.js';

export interface Enricher {
  /** Fills endpoint/service fields of a decoded flow in place. */
  enrich(flow: Flow): void;
}

/** Labels of Cilium's reserved identities (pkg/identity), by number. */
export const RESERVED_IDENTITY_LABELS: Readonly<Record<number, readonly string[]>> = Object.freeze({
  1: Object.freeze(['reserved:host']),
  2: Object.freeze(['reserved:world']),
  3: Object.freeze(['reserved:unmanaged']),
  4: Object.freeze(['reserved:health']),
  5: Object.freeze(['reserved:init']),
  6: Object.freeze(['reserved:remote-node']),
  7: Object.freeze(['reserved:kube-apiserver']),
  8: Object.freeze(['reserved:ingress']),
  9: Object.freeze(['reserved:world-ipv4']),
  10: Object.freeze(['reserved:world-ipv6']),
});

export const IDENTITY_HOST = 1,
  IDENTITY_WORLD = 2,
  IDENTITY_REMOTE_NODE = 6,
  IDENTITY_KUBE_APISERVER = 7;

/** Runs enrichers in order (endpoints and services first, then DNS names). */
export class ChainedEnricher implements Enricher {
  constructor(private readonly enrichers: readonly Enricher[]) {}
  enrich(flow: Flow): void {
    for (let i = 0; i < this.enrichers.length; i++) this.enrichers[i].enrich(flow);
  }
}
