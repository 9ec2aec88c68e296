// gRPC clients to the collectors' own Observer APIs: ServerStatus and GetNodes, and the
// GetFlows follow streams the relay's live path fans out to (relay/live-fanout.ts).
import * as grpc from '@grpc/grpc-js';
import type { GetFlowsRequest, GetFlowsResponse, ServerStatusResponse } from '../proto/types.js';
import { ObserverService } from '../common/grpc-services.js';
import { types, decode } from '../proto/index.js';
import { RawFlowResponse, scanFlowResponse } from '../observer/raw-response.js';

/** What a collector's GetFlows stream yields here: its flows as they came (read no further than
 * their time), anything else decoded. */
export type PeerResponse = RawFlowResponse | GetFlowsResponse;

const PeerObserverClient = grpc.makeGenericClientConstructor(
  {
    ...ObserverService,
    GetFlows: { ...ObserverService.GetFlows, responseDeserialize: (b: Buffer): object => scanFlowResponse(b) ?? decode<object>(types.GetFlowsResponse, b) },
  },
  'Observer',
);

export class PeerClients {
  private readonly clients = new Map<string, grpc.Client>();

  /** `credentials(node)`: TLS to that collector (relay/tls.ts); absent: plaintext. */
  constructor(private readonly credentials: ((nodeName: string) => { credentials: grpc.ChannelCredentials; options: grpc.ChannelOptions }) | null = null) {}

  get tls(): boolean {
    return this.credentials !== null;
  }

  private client(address: string, nodeName: string): grpc.Client {
    const key = `${nodeName}@${address}`;
    let c = this.clients.get(key);
    if (!c) {
      const tls = this.credentials?.(nodeName);
      c = new PeerObserverClient(address, tls?.credentials ?? grpc.credentials.createInsecure(), tls?.options ?? {});
      this.clients.set(key, c);
    }
    return c;
  }

  serverStatus(address: string, nodeName: string, timeoutMs = 1000): Promise<ServerStatusResponse> {
    const c = this.client(address, nodeName) as unknown as {
      ServerStatus(req: object, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: ServerStatusResponse) => void): void;
    };
    return new Promise((resolve, reject) => {
      c.ServerStatus({}, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }

  /** A GetFlows stream from one collector; cancel it to end it. */
  getFlows(address: string, nodeName: string, req: GetFlowsRequest, metadata: grpc.Metadata): grpc.ClientReadableStream<PeerResponse> {
    const c = this.client(address, nodeName) as unknown as { GetFlows(req: object, md: grpc.Metadata): grpc.ClientReadableStream<PeerResponse> };
    return c.GetFlows(req, metadata);
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
