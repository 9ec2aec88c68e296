// The API's one error handler: schema validation failures and UsageErrors are 400 with a JSON
// message naming the parameter, the relay's INVALID_ARGUMENT too; a relay that cannot answer is
// 502. Every rejection is counted by route and reason.
import * as grpc from '@grpc/grpc-js';
import type { FastifyError, FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { UsageError } from '../query/usage-error.js';
import { isTokenRefusal, rpcErrorText } from '../client.js';
import type { HttpAuth } from './auth.js';

export interface ApiError {
  statusCode: number;
  error: string;
  message: string;
  parameter?: string;
}

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** The parameter an ajv error is about, and a sentence saying what is wrong with it. */
export function describeValidation(errors: readonly AjvError[]): { parameter?: string; message: string } {
  const e = errors[0];
  if (!e) return { message: 'invalid request' };
  if (e.keyword === 'additionalProperties') {
    const p = String(e.params.additionalProperty);
    return { parameter: p, message: `unknown query parameter "${p}"` };
  }
  const parameter = e.instancePath.split('/').filter(Boolean)[0];
  const allowed = e.keyword === 'enum' ? `: one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` : '';
  if (!parameter) return { message: `query ${e.message ?? 'is invalid'}` };
  return { parameter, message: `invalid query parameter "${parameter}": ${e.message ?? 'invalid'}${allowed}` };
}

/** Drops the CLI's `--` from messages shared with the command line, so they name the query parameter. */
function asParameterText(message: string): string {
  return message.replace(/(^|[\s"'`(])--([a-z])/g, '$1$2');
}

export function installErrorHandler(app: FastifyInstance, registry: Registry, relay: string, auth: HttpAuth): void {
  const rejected = new Counter({
    name: 'flowscope_api_rejected_requests_total',
    help: 'HTTP API requests answered 400, by route and reason (parameter: the schema refused a query parameter; value: a value did not parse or the relay refused it)',
    labelNames: ['route', 'reason'],
    registers: [registry],
  });
  const relayErrors = new Counter({
    name: 'flowscope_api_relay_errors_total',
    help: 'HTTP API requests answered 502 because the relay could not answer, by route',
    labelNames: ['route'],
    registers: [registry],
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    const send = (body: ApiError) => reply.code(body.statusCode).type('application/json').send(body);
    if (err.validation) {
      rejected.inc({ route, reason: 'parameter' });
      const { parameter, message } = describeValidation(err.validation as unknown as AjvError[]);
      return send({ statusCode: 400, error: 'Bad Request', message, ...(parameter ? { parameter } : {}) });
    }
    if (err instanceof UsageError) {
      rejected.inc({ route, reason: 'value' });
      return send({ statusCode: 400, error: 'Bad Request', message: asParameterText(err.message) });
    }
    const g = err as unknown as Partial<grpc.ServiceError>;
    if (typeof g.code === 'number' && 'details' in g) {
      // The relay's token refusals, with none of their detail (a refused client certificate is
      // the API's own configuration: a 502 like any relay failure).
      const refusal = isTokenRefusal(g);
      if (refusal === 'unauthenticated') return auth.refuse(reply, auth.unauthenticatedReason(req));
      if (refusal === 'forbidden') return auth.refuse(reply, 'forbidden');
      if (g.code === grpc.status.INVALID_ARGUMENT) {
        rejected.inc({ route, reason: 'value' });
        return send({ statusCode: 400, error: 'Bad Request', message: g.details || err.message });
      }
      relayErrors.inc({ route });
      return send({ statusCode: 502, error: 'Bad Gateway', message: `relay ${relay}: ${rpcErrorText(err, relay)}` });
    }
    if (err.statusCode && err.statusCode < 500) return send({ statusCode: err.statusCode, error: 'Bad Request', message: err.message });
    req.log.error({ err }, 'request failed');
    return send({ statusCode: 500, error: 'Internal Server Error', message: err.message });
  });
}
