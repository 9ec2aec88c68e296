// What the API's route plugins share: the relay client, the address it dials, the metrics registry.
import type { Registry } from 'prom-client';
import type { ObserverApiClient } from '../client.js';

export interface ApiContext {
  client: ObserverApiClient;
  /** The relay address, for messages. */
  server: string;
  registry: Registry;
}
