// Bearer-token authentication of gRPC calls (metadata `authorization: Bearer <token>`), and the
// namespace scope of the authenticated caller for the handlers behind it. guardService wraps a
// service's handlers: a call without a valid token is refused before its handler runs, with a
// generic UNAUTHENTICATED (the message never says whether the token was missing or unknown, or
// repeats it); an accepted call's principal is kept beside the call for callAuth().
import * as grpc from '@grpc/grpc-js';
import type { Flow } from '../../proto/types.js';
import { grpcError } from '../grpc-services.js';
import type { Principal } from './token-file.js';

export const AUTH_REFUSAL_REASONS = ['missing', 'invalid', 'forbidden'] as const;
export type AuthRefusalReason = (typeof AUTH_REFUSAL_REASONS)[number];

/** The token of an `Authorization` value: "Bearer <token>" (scheme case-insensitive), else null. */
export function bearerToken(value: string | undefined | null): string | null {
  if (!value) return null;
  const m = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(value);
  return m ? m[1] : null;
}

/** What a handler knows about its caller. */
export interface CallAuth {
  principal: Principal;
  /** Namespaces whose flows the caller sees; null: all. */
  scope: ReadonlySet<string> | null;
  /** A PERMISSION_DENIED to answer with, counted as a "forbidden" refusal. */
  forbidden(): grpc.ServiceError;
}

export const UNAUTHENTICATED_MESSAGE = 'authentication required';
export const FORBIDDEN_MESSAGE = 'permission denied';

const calls = new WeakMap<object, CallAuth>();

/** The caller of a guarded call; undefined when the service runs without authentication. */
export function callAuth(call: object): CallAuth | undefined {
  return calls.get(call);
}

/** The caller's namespace scope, or null (unrestricted: no authentication, or an all-namespaces token). */
export function callScope(call: object): ReadonlySet<string> | null {
  return calls.get(call)?.scope ?? null;
}

/** A flow is visible to a scope when its source or its destination namespace is in it. */
export function flowInScope(flow: Flow, scope: ReadonlySet<string>): boolean {
  return scope.has(flow.source?.namespace ?? '') || scope.has(flow.destination?.namespace ?? '');
}

export interface Authenticator {
  verify(token: string): Principal | null;
}

export class GrpcAuth {
  readonly refused: Record<AuthRefusalReason, number> = { missing: 0, invalid: 0, forbidden: 0 };

  constructor(private readonly tokens: Authenticator) {}

  private refuse(reason: AuthRefusalReason): grpc.ServiceError {
    this.refused[reason]++;
    return reason === 'forbidden'
      ? grpcError(grpc.status.PERMISSION_DENIED, FORBIDDEN_MESSAGE)
      : grpcError(grpc.status.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE);
  }

  /** The call's CallAuth, or the error to refuse it with. */
  authenticate(md: grpc.Metadata): CallAuth | grpc.ServiceError {
    const values = md.get('authorization');
    if (values.length === 0) return this.refuse('missing');
    const token = values.length === 1 && typeof values[0] === 'string' ? bearerToken(values[0]) : null;
    const principal = token === null ? null : this.tokens.verify(token);
    if (!principal) return this.refuse('invalid');
    return { principal, scope: principal.namespaces, forbidden: () => this.refuse('forbidden') };
  }

  /** The service's handlers behind the token check (unary and server-streaming methods). */
  guardService(def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
    const out: grpc.UntypedServiceImplementation = {};
    for (const [name, m] of Object.entries(def)) {
      const h = impl[name] as unknown as (...args: unknown[]) => void;
      if (!h) continue;
      if (m.requestStream) throw new Error(`${m.path}: client-streaming methods are not guarded`);
      out[name] = (
        m.responseStream
          ? (call: grpc.ServerWritableStream<object, object>) => {
              const a = this.authenticate(call.metadata);
              if (a instanceof Error) return call.emit('error', a);
              calls.set(call, a);
              h(call);
            }
          : (call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) => {
              const a = this.authenticate(call.metadata);
              if (a instanceof Error) return cb(a);
              calls.set(call, a);
              h(call, cb);
            }
      ) as grpc.UntypedHandleCall;
    }
    return out;
  }
}

/** Call metadata carrying a bearer token (clients). */
export function bearerMetadata(token: string | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}
