// Observer service handlers shared by the collector (its own node) and the relay (the cluster).
import * as grpc from '@grpc/grpc-js';
import type { GetNamespacesResponse, GetNodesResponse, ServerStatusResponse } from '../proto/types.js';
import { grpcError } from '../common/grpc-services.js';
import { handleGetFlows, scopeRefusal, type FlowsCall, type GetFlowsDeps } from './get-flows.js';
import { callAuth, type CallAuth } from '../common/auth/grpc-auth.js';

/** Unary answers get the caller (absent without authentication) and may throw a ServiceError to refuse. */
export interface ObserverBackend extends GetFlowsDeps {
  serverStatus(auth?: CallAuth): Promise<ServerStatusResponse>;
  /** Undefined on a collector: like a Hubble agent, it answers UNIMPLEMENTED. */
  getNodes?(auth?: CallAuth): Promise<GetNodesResponse>;
  getNamespaces(auth?: CallAuth): Promise<GetNamespacesResponse>;
  /** Response header metadata, e.g. hubble-relay-version. */
  versionHeader?: [string, string];
  /** More response headers of GetFlows (a collector's flowscope-session). */
  flowsHeaders?: ReadonlyArray<[string, string]>;
}

type Unary<Res> = grpc.handleUnaryCall<object, Res>;

function unary<Res>(backend: ObserverBackend, fn: ((auth?: CallAuth) => Promise<Res>) | undefined, name: string): Unary<Res> {
  return (call, callback) => {
    if (!fn) return callback(grpcError(grpc.status.UNIMPLEMENTED, `${name} is not implemented by this server`));
    if (backend.versionHeader) {
      const md = new grpc.Metadata();
      md.set(...backend.versionHeader);
      call.sendMetadata(md);
    }
    fn(callAuth(call)).then(
      (res) => callback(null, res),
      (err: Error) => callback(typeof (err as grpc.ServiceError).code === 'number' ? (err as grpc.ServiceError) : grpcError(grpc.status.INTERNAL, err.message)),
    );
  };
}

export function observerHandlers(backend: ObserverBackend): grpc.UntypedServiceImplementation {
  const unimplementedStream = (name: string) => (call: grpc.ServerWritableStream<object, object>) => {
    call.emit('error', grpcError(grpc.status.UNIMPLEMENTED, `${name} is not implemented by this server`));
  };
  return {
    GetFlows: (call: grpc.ServerWritableStream<object, object>) => {
      const refusal = scopeRefusal(call as unknown as FlowsCall);
      if (refusal) return call.emit('error', refusal);
      if (backend.versionHeader || backend.flowsHeaders) {
        const md = new grpc.Metadata();
        if (backend.versionHeader) md.set(...backend.versionHeader);
        for (const [k, v] of backend.flowsHeaders ?? []) md.set(k, v);
        call.sendMetadata(md);
      }
      void handleGetFlows(call as never, backend);
    },
    GetAgentEvents: unimplementedStream('GetAgentEvents'),
    GetDebugEvents: unimplementedStream('GetDebugEvents'),
    ServerStatus: unary(backend, (auth) => backend.serverStatus(auth), 'ServerStatus'),
    GetNodes: unary(backend, backend.getNodes?.bind(backend), 'GetNodes'),
    GetNamespaces: unary(backend, (auth) => backend.getNamespaces(auth), 'GetNamespaces'),
  };
}
