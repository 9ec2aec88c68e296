// The flow explorer: a single-page app (api/web/) served at / and at its views' paths, its
// assets under /ui/. HTML and CSS are read from api/web/static in the source tree, the script
// from the build beside this file (dist/api/web, compiled by `npm run build` with the rest).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** <out>/api/http/routes → the repository (or installed package) root, whichever of dist/ or dist-test/ <out> is. */
export const WEB_STATIC_DIR = path.resolve(HERE, '../../../../api/web/static');
/** The compiled browser modules of the same build as this file. */
export const WEB_SCRIPT_DIR = path.resolve(HERE, '../../web');

/** The app's own paths: each loads the same page, whose script shows the view the path names. */
export const UI_VIEWS = ['/', '/flows', '/map', '/status', '/why'];

export async function webRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: [WEB_STATIC_DIR, WEB_SCRIPT_DIR],
    prefix: '/ui/',
    // Only what the page loads: the modules, their source maps, the stylesheet.
    allowedPath: (p) => /^\/[a-z-]+\.(js|js\.map|css)$/.test(p),
    index: false,
    decorateReply: false,
    cacheControl: false,
    setHeaders: (res) => res.setHeader('cache-control', 'no-cache'),
  });
  const index = path.join(WEB_STATIC_DIR, 'index.html');
  for (const url of UI_VIEWS) {
    app.get(url, { schema: { hide: true } }, async (_req, reply) => {
      if (!fs.existsSync(path.join(WEB_SCRIPT_DIR, 'app.js'))) {
        return reply.code(503).type('text/plain; charset=utf-8').send('The web UI is not built: run `npm run build`.\n');
      }
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(fs.createReadStream(index));
    });
  }
}
