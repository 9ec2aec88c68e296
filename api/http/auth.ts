// Bearer tokens on the HTTP API. Every /api/v1 route needs `Authorization: Bearer <token>` when
// the API has a token file (checked here, before the relay is asked) or when the relay requires
// one (its UNAUTHENTICATED / PERMISSION_DENIED become 401 / 403 in errors.ts). The caller's token
// is forwarded to the relay, which applies the token's namespaces to every answer: the API never
// answers flow data with a token of its own. Probes, /metrics, the OpenAPI document, the docs
// and the web UI's static files carry no flow data and stay open.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { bearerToken, AUTH_REFUSAL_REASONS, FORBIDDEN_MESSAGE, UNAUTHENTICATED_MESSAGE, type AuthRefusalReason } from '../../common/auth/grpc-auth.js';
import type { Principal } from '../../common/auth/token-file.js';

export const API_PREFIX = '/api/v1/';

export interface HttpAuth {
  /** The token to forward for this request (undefined: none). */
  token(req: FastifyRequest): string | undefined;
  /** Answers a refusal: 401 with WWW-Authenticate, or 403; counted by reason. */
  refuse(reply: FastifyReply, reason: AuthRefusalReason): FastifyReply;
  /** The reason of a relay's UNAUTHENTICATED for this request: no token sent, or a bad one. */
  unauthenticatedReason(req: FastifyRequest): AuthRefusalReason;
}

export function installAuth(app: FastifyInstance, registry: Registry, tokens: { verify(token: string): Principal | null } | null): HttpAuth {
  const refused = new Counter({
    name: 'flowscope_api_auth_refused_total',
    help: 'HTTP API requests refused for their token: none (missing), not valid (invalid), or not allowed to see what they asked for (forbidden)',
    labelNames: ['reason'],
    registers: [registry],
  });
  for (const reason of AUTH_REFUSAL_REASONS) refused.inc({ reason }, 0);

  const auth: HttpAuth = {
    token: (req) => bearerToken(req.headers.authorization) ?? undefined,
    refuse(reply, reason) {
      refused.inc({ reason });
      if (reason === 'forbidden') return reply.code(403).type('application/json').send({ statusCode: 403, error: 'Forbidden', message: FORBIDDEN_MESSAGE });
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="flowscope"')
        .type('application/json')
        .send({ statusCode: 401, error: 'Unauthorized', message: UNAUTHENTICATED_MESSAGE });
    },
    unauthenticatedReason: (req) => (req.headers.authorization === undefined ? 'missing' : 'invalid'),
  };

  if (tokens) {
    // Checked before validation and before the relay: an unauthenticated caller learns nothing,
    // not even which query parameters are wrong.
    app.addHook('onRequest', async (req, reply) => {
      // By the matched route, so no spelling of the URL reaches a data route unchecked.
      if (!(req.routeOptions.url ?? '').startsWith(API_PREFIX) && !req.url.startsWith(API_PREFIX)) return;
      if (req.headers.authorization === undefined) return auth.refuse(reply, 'missing');
      const token = bearerToken(req.headers.authorization);
      if (token === null || tokens.verify(token) === null) return auth.refuse(reply, 'invalid');
    });
  }
  return auth;
}
