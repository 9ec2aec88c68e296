// What the API's route plugins share: the relay client, the address it dials, the metrics registry.
import type { Registry } from 'prom-client';
import type { FastifyRequest } from 'fastify';
import type { ObserverApiClient } from '../client.js';

export interface ApiContext {
  /** The relay client for this request: its channels, with the caller's bearer token. */
  clientFor(req: FastifyRequest): ObserverApiClient;
  /** The relay address, for messages. */
  server: string;
  registry: Registry;
}
