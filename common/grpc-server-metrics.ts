// Per-method gRPC server counters under the names go-grpc-prometheus gives them (the ones Hubble
// and Hubble Relay export): grpc_server_started_total and grpc_server_handled_total by
// grpc_service, grpc_method, grpc_type and grpc_code (Go's code names). Every rejection a client
// sees is a handled call with a non-OK code. A request whose bytes do not decode is refused by
// grpc-js itself (INTERNAL) without going through the interceptors' sendStatus (they only see the
// call end, as for a client's cancel), so services are added with a counting request
// deserialiser (addCountedService): it reports the failure (flowscope_grpc_malformed_requests_total)
// and the call's end is then counted as INTERNAL.
import * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { ObservedMetric } from './metrics/family.js';

// Go's codes.Code String() names, which is what grpc_code carries in Hubble's metrics.
const CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

interface MethodStats {
  service: string;
  method: string;
  type: string;
  started: number;
  malformed: number;
  /** Indexed by numeric status code. */
  handled: number[];
}

function grpcType(requestStream: boolean, responseStream: boolean): string {
  if (requestStream) return responseStream ? 'bidi_stream' : 'client_stream';
  return responseStream ? 'server_stream' : 'unary';
}

export class GrpcServerStats {
  private readonly byPath = new Map<string, MethodStats>();
  // Decode failures whose call end the interceptor has not seen yet, by path. grpc-js ends such a
  // call right after the failure; the count per path, not the pairing with one call, is what
  // the counters need.
  private readonly refusedUnseen = new Map<string, number>();

  private entry(path: string, type: string): MethodStats {
    let e = this.byPath.get(path);
    if (!e) {
      const slash = path.lastIndexOf('/');
      e = { service: path.slice(1, slash), method: path.slice(slash + 1), type, started: 0, malformed: 0, handled: new Array(CODE_NAMES.length).fill(0) };
      this.byPath.set(path, e);
    }
    return e;
  }

  /** A request message of `path` that did not decode (grpc-js answers INTERNAL). */
  malformed(path: string, requestStream: boolean, responseStream: boolean): void {
    this.entry(path, grpcType(requestStream, responseStream)).malformed++;
    this.refusedUnseen.set(path, (this.refusedUnseen.get(path) ?? 0) + 1);
  }

  /** Handled calls of one method with one code (tests read deltas from it). */
  handled(path: string, code: grpc.status): number {
    return this.byPath.get(path)?.handled[code] ?? 0;
  }

  started(path: string): number {
    return this.byPath.get(path)?.started ?? 0;
  }

  malformedCount(path: string): number {
    return this.byPath.get(path)?.malformed ?? 0;
  }

  /** Counts every call of the server it is given to: its start and the status it ends with. */
  readonly interceptor: grpc.ServerInterceptor = (desc, call) => {
    const e = this.entry(desc.path, grpcType(desc.requestStream, desc.responseStream));
    e.started++;
    let ended = false;
    const end = (code: number) => {
      if (ended) return;
      ended = true;
      e.handled[code >= 0 && code < CODE_NAMES.length ? code : grpc.status.UNKNOWN]++;
    };
    return new grpc.ServerInterceptingCall(call, {
      // An end without a status sent through here: grpc-js refused the request itself, or the
      // client went away.
      start: (next) =>
        next({
          onCancel: () => {
            if (ended) return;
            const refused = this.refusedUnseen.get(desc.path) ?? 0;
            if (refused > 0) this.refusedUnseen.set(desc.path, refused - 1);
            end(refused > 0 ? grpc.status.INTERNAL : grpc.status.CANCELLED);
          },
        }),
      sendStatus: (status, next) => {
        end(status.code);
        next(status);
      },
    });
  };

  register(registry: Registry): void {
    const base = (e: MethodStats) => ({ grpc_service: e.service, grpc_method: e.method, grpc_type: e.type });
    new ObservedMetric('grpc_server_started_total', 'RPCs started on the server', 'counter', () =>
      [...this.byPath.values()].map((e) => ({ labels: base(e), value: e.started })),
    ).register(registry);
    new ObservedMetric('grpc_server_handled_total', 'RPCs completed on the server, by status code (every rejection is a non-OK code)', 'counter', () =>
      [...this.byPath.values()].flatMap((e) =>
        e.handled.flatMap((value, code) => (value > 0 || code === 0 ? [{ labels: { ...base(e), grpc_code: CODE_NAMES[code] }, value }] : [])),
      ),
    ).register(registry);
    new ObservedMetric('flowscope_grpc_malformed_requests_total', 'Request messages that did not decode (answered INTERNAL, as gRPC-Go does)', 'counter', () =>
      [...this.byPath.values()].map((e) => ({ labels: base(e), value: e.malformed })),
    ).register(registry);
  }
}

/** One per process: the request deserialisers of the shared service definitions report to it. */
export const grpcServerStats = new GrpcServerStats();

/** Server options with the counting interceptor (merged into the given options). */
export function countedServerOptions(opts: grpc.ServerOptions = {}): grpc.ServerOptions {
  return { ...opts, interceptors: [...(opts.interceptors ?? []), grpcServerStats.interceptor] };
}

/** The definition with request deserialisers that report decode failures to `stats`. */
export function countDecodeFailures(def: grpc.ServiceDefinition, stats: GrpcServerStats = grpcServerStats): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, m] of Object.entries(def)) {
    out[name] = {
      ...m,
      requestDeserialize: (b: Buffer) => {
        try {
          return m.requestDeserialize(b);
        } catch (err) {
          stats.malformed(m.path, m.requestStream, m.responseStream);
          throw err;
        }
      },
    };
  }
  return out;
}

/** server.addService with decode failures counted; also takes a library's addToServer(server). */
export function addCountedService(server: grpc.Server, def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation): void {
  server.addService(countDecodeFailures(def), impl);
}

/** A stand-in server for a library's addToServer(server) (the health service): its services are added counted. */
export function counting(server: grpc.Server): grpc.Server {
  return { addService: (def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation) => addCountedService(server, def, impl) } as grpc.Server;
}
