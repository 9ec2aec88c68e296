// The /metrics HTTP listener each long-running process opens (`--metrics-addr`, e.g. ":9965").
// Plain node:http: one route, no framework needed. It serves the process's own registry and
// prom-client's default registry, so a module that registers there (one per process, e.g. the
// relay's spool and Kafka consumer gauges) is exported without extra wiring.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { register as defaultRegistry, type Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import { listenError } from '../start-error.js';
import { followTlsFiles, httpsServerOptions, type TlsFiles } from '../tls.js';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** Parses ":9965", "0.0.0.0:9965", "[::1]:9965" or "127.0.0.1:0"; throws on anything else. */
export function parseListenAddress(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr);
  if (!m) throw new Error(`invalid listen address "${addr}" (expected [host]:port)`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid port in listen address "${addr}"`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** `tls`: serve HTTPS with these (watched) files, client certificates required with client CAs. */
export async function startMetricsServer(addr: string, registry: Registry, log: Logger, tls: TlsFiles | null = null): Promise<MetricsServer> {
  const { host, port } = parseListenAddress(addr);
  const registries = registry === defaultRegistry ? [registry] : [registry, defaultRegistry];
  const collect = async () => (await Promise.all(registries.map((r) => r.metrics()))).filter((t) => t.trim() !== '').join('\n');
  const handler: http.RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/metrics' && path !== '/')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are served at /metrics\n');
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('flowscope metrics: /metrics\n');
      return;
    }
    collect().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: Error) => {
        log.error({ err: err.message }, 'metrics collection failed');
        res.writeHead(500).end(`${err.message}\n`);
      },
    );
  };
  const server = tls ? https.createServer(httpsServerOptions(tls), handler) : http.createServer(handler);
  if (tls) followTlsFiles(server as https.Server, tls);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenError(err, `${host}:${port}`, '--metrics-addr')));
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  log.info({ metrics: `${host}:${bound}`, tls: !!tls }, 'metrics listening');
  return {
    port: bound,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => {
          tls?.close();
          r();
        });
      }),
  };
}
