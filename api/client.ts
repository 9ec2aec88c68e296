// A small client for the Observer API (relay or collector), used by the CLI and the HTTP API.
import * as grpc from '@grpc/grpc-js';
import { ObserverClient, InsightsClient, RelayStatusClient, OBSERVER_HEALTH_SERVICE } from '../common/grpc-services.js';
import type {
  GetFlowsRequest,
  GetFlowsResponse,
  GetNamespacesResponse,
  GetNodesResponse,
  ServerStatusResponse,
  LostEventsResponse,
  InsightsRequest,
  ServiceMapResponse,
  TopTalkersResponse,
  TopDropReasonsResponse,
  WhyRequest,
  WhyReport,
} from '../proto/types.js';
import { service as HealthServiceDef } from 'grpc-health-check';
import { bearerMetadata, FORBIDDEN_MESSAGE, UNAUTHENTICATED_MESSAGE } from '../common/auth/grpc-auth.js';

type UnaryFn<Res> = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall;

/** "localhost:4245", "host:port", "unix:///path", or with hubble's tls:// (TLS) or grpc:// prefix. */
export function dialTarget(server: string): string {
  return server.replace(/^(grpc|tls):\/\//, '');
}

const HealthClient = grpc.makeGenericClientConstructor(HealthServiceDef as unknown as grpc.ServiceDefinition, 'Health');

export class ObserverApiClient {
  private readonly client: grpc.Client;
  private readonly health: grpc.Client;
  private readonly insights: grpc.Client;
  private readonly relayStatus: grpc.Client;
  /** Sent as `authorization: Bearer …` with every call but the health check. */
  private token: string | undefined;

  /** `credentials`: TLS (api/cli/tls-options.ts builds them from the flags); absent: plaintext. */
  constructor(
    readonly server: string,
    private readonly timeoutMs = 12_000,
    credentials?: grpc.ChannelCredentials,
    channelOptions: grpc.ChannelOptions = {},
    token?: string,
  ) {
    this.token = token;
    // Never plaintext to an address that asks for TLS.
    if (server.startsWith('tls://') && !credentials) throw new Error(`${server}: a tls:// server needs TLS credentials`);
    const target = dialTarget(server);
    const creds = credentials ?? grpc.credentials.createInsecure();
    this.client = new ObserverClient(target, creds, channelOptions);
    this.health = new HealthClient(target, creds, channelOptions);
    this.insights = new InsightsClient(target, creds, channelOptions);
    this.relayStatus = new RelayStatusClient(target, creds, channelOptions);
  }

  /** This client's channels with another caller's token (the HTTP API forwards each request's).
   * The view shares the channels: close the client it came from, never the view. */
  withToken(token: string | undefined): ObserverApiClient {
    const view = Object.create(ObserverApiClient.prototype) as ObserverApiClient;
    Object.assign(view, this);
    view.token = token;
    return view;
  }

  private unary<Res>(name: string, req: object = {}, client: grpc.Client = this.client): Promise<Res> {
    const fn = (client as unknown as Record<string, UnaryFn<Res>>)[name].bind(client);
    return new Promise((resolve, reject) => {
      fn(req, bearerMetadata(this.token), { deadline: Date.now() + this.timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }

  serverStatus(): Promise<ServerStatusResponse> {
    return this.unary('ServerStatus');
  }
  getNodes(): Promise<GetNodesResponse> {
    return this.unary('GetNodes');
  }
  getNamespaces(): Promise<GetNamespacesResponse> {
    return this.unary('GetNamespaces');
  }
  /** flowscope's rollup queries (relay only). */
  serviceMap(req: InsightsRequest): Promise<ServiceMapResponse> {
    return this.unary('ServiceMap', req, this.insights);
  }
  topTalkers(req: InsightsRequest): Promise<TopTalkersResponse> {
    return this.unary('TopTalkers', req, this.insights);
  }
  topDropReasons(req: InsightsRequest): Promise<TopDropReasonsResponse> {
    return this.unary('TopDropReasons', req, this.insights);
  }
  /** `why`: one pair of endpoints diagnosed from stored flows (relay only). */
  why(req: WhyRequest): Promise<WhyReport> {
    return this.unary('Why', req, this.insights);
  }

  /** Lost events collectors reported, by source (relay only: a collector answers UNIMPLEMENTED). */
  lostEvents(): Promise<LostEventsResponse> {
    return this.unary('LostEvents', {}, this.relayStatus);
  }

  /** grpc.health.v1 Check for the service the hubble CLI checks; resolves the serving status name. */
  healthCheck(): Promise<string> {
    const fn = (this.health as unknown as Record<string, UnaryFn<{ status: string | number }>>).Check.bind(this.health);
    return new Promise((resolve, reject) => {
      fn({ service: OBSERVER_HEALTH_SERVICE }, new grpc.Metadata(), { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        if (err) return reject(err);
        const s = res.status;
        resolve(typeof s === 'number' ? (['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][s] ?? String(s)) : s);
      });
    });
  }

  /** Streams GetFlows responses; resolves when the server ends the stream, rejects on error.
   * `onAccepted` runs when the server sent its response headers (it took the call). */
  getFlows(req: GetFlowsRequest, onResponse: (r: GetFlowsResponse) => void | Promise<void>, signal?: AbortSignal, onAccepted?: () => void): Promise<void> {
    const call = (this.client as unknown as { GetFlows(req: object, md: grpc.Metadata): grpc.ClientReadableStream<GetFlowsResponse> }).GetFlows(
      req,
      bearerMetadata(this.token),
    );
    if (onAccepted) call.once('metadata', () => onAccepted());
    return new Promise((resolve, reject) => {
      let chain = Promise.resolve();
      const abort = () => call.cancel();
      signal?.addEventListener('abort', abort, { once: true });
      call.on('data', (r: GetFlowsResponse) => {
        const p = onResponse(r);
        if (p) {
          call.pause();
          chain = chain
            .then(() => p)
            .then(() => {
              call.resume();
            });
        }
      });
      call.on('error', (err: grpc.ServiceError) => {
        signal?.removeEventListener('abort', abort);
        if (err.code === grpc.status.CANCELLED && signal?.aborted) resolve();
        else reject(err);
      });
      call.on('end', () => {
        signal?.removeEventListener('abort', abort);
        chain.then(resolve, reject);
      });
    });
  }

  close(): void {
    this.client.close();
    this.health.close();
    this.insights.close();
    this.relayStatus.close();
  }
}

/** Waits until `server` answers its health check with SERVING. */
export async function waitUntilServing(server: string, timeoutMs: number): Promise<void> {
  const client = new ObserverApiClient(server, 1000);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        if ((await client.healthCheck()) === 'SERVING') return;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error(`${server} did not become healthy within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    client.close();
  }
}

/** A refusal of the relay's token check (common/auth/grpc-auth.ts), told apart from other
 * UNAUTHENTICATED / PERMISSION_DENIED answers (a missing client certificate) by its message. */
export function isTokenRefusal(err: Partial<grpc.ServiceError>): 'unauthenticated' | 'forbidden' | null {
  if (err.code === grpc.status.UNAUTHENTICATED && err.details === UNAUTHENTICATED_MESSAGE) return 'unauthenticated';
  if (err.code === grpc.status.PERMISSION_DENIED && err.details === FORBIDDEN_MESSAGE) return 'forbidden';
  return null;
}

/**
 * What went wrong in a call, for a person: gRPC's details without its empty trailing notes, and
 * for a server that cannot be reached, what to check.
 */
export function rpcErrorText(err: unknown, server: string): string {
  const e = err as Partial<grpc.ServiceError>;
  const text = (e.details || e.message || String(err)).replace(/\s*Resolution note:\s*$/, '').trim();
  // A failed TLS handshake also ends as "No connection established": say what the TLS error was.
  const tlsError =
    /Last error: (?:Error: )?(.*(?:certificate|altnames|self[- ]signed|SSL|TLS|CERT_|unable to verify|handshake).*?)(?: \(\d{4}-\d\d-\d\dT[^)]*\))?$/i.exec(
      text,
    );
  // The relay's own messages are generic on purpose; say what to do instead.
  // (Only the token refusals: a client-certificate refusal keeps its own text.)
  if (isTokenRefusal(e) === 'unauthenticated') return `${server} requires a valid token: give --token-file (or set FLOWSCOPE_TOKEN)`;
  if (isTokenRefusal(e) === 'forbidden') return `the token may not see this: it is limited to other namespaces (or cluster-wide status)`;
  if (e.code === grpc.status.UNAVAILABLE && tlsError) return `TLS with ${server} failed: ${tlsError[1]} (check --tls-ca-cert-files, --tls-server-name)`;
  if (e.code === grpc.status.UNAVAILABLE && /ECONNREFUSED|No connection established|ENOTFOUND|EAI_AGAIN|Name resolution failed/.test(text)) {
    const why = /ENOTFOUND|EAI_AGAIN|Name resolution failed/.test(text) ? 'the name does not resolve' : 'nothing answers there';
    return `cannot reach ${server}: ${why} — is the relay running (\`flowscope up\`, \`flowscope relay\`)? Point --server (or HUBBLE_SERVER) at it`;
  }
  return text;
}
