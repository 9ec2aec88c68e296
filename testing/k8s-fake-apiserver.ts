// A small in-process HTTP server speaking the Kubernetes list/watch protocol, for tests: lists
// carry metadata.resourceVersion; `?watch=true&resourceVersion=N` replays the retained events
// after N and then streams new ones as newline-delimited JSON ({type, object}); a
// resourceVersion older than the retained history gets 410 Gone (as an HTTP status or, with
// goneAsEvent, as an ERROR event followed by the end of the stream, as real API servers do).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Obj = { metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> } & Record<string, unknown> } & Record<
  string,
  unknown
>;
type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface Collection {
  kind: string;
  objects: Map<string, Obj>;
  history: { rv: number; type: EventType; object: Obj }[];
  oldestRv: number;
}

export interface RequestLogEntry {
  path: string;
  watch: boolean;
  resourceVersion: string;
  labelSelector: string;
}

// Collection paths the collector watches, with the list kind each returns.
const COLLECTIONS: Record<string, string> = {
  '/api/v1/pods': 'PodList',
  '/api/v1/services': 'ServiceList',
  '/api/v1/nodes': 'NodeList',
  '/api/v1/namespaces': 'NamespaceList',
  '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices': 'EndpointSliceList',
};

export class FakeApiServer {
  readonly requests: RequestLogEntry[] = [];
  goneAsEvent = false;
  private rv = 100;
  private readonly collections = new Map<string, Collection>();
  private readonly watchers = new Map<string, Set<http.ServerResponse>>();
  private readonly sockets = new Set<import('node:net').Socket>();
  private readonly server: http.Server;

  constructor() {
    for (const [path, kind] of Object.entries(COLLECTIONS)) {
      this.collections.set(path, { kind, objects: new Map(), history: [], oldestRv: 0 });
      this.watchers.set(path, new Set());
    }
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Applies a change and streams it to the open watches of that collection. */
  emit(path: string, type: EventType, obj: Obj): void {
    const c = this.collections.get(path)!;
    const object = structuredClone(obj);
    object.metadata.resourceVersion = String(++this.rv);
    const key = `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    if (type === 'DELETED') c.objects.delete(key);
    else c.objects.set(key, object);
    c.history.push({ rv: this.rv, type, object });
    const line = JSON.stringify({ type, object }) + '\n';
    for (const res of this.watchers.get(path)!) res.write(line);
  }

  /** Sends a BOOKMARK carrying the current resourceVersion to every open watch of a collection. */
  bookmark(path: string): void {
    const c = this.collections.get(path)!;
    const line = JSON.stringify({ type: 'BOOKMARK', object: { kind: c.kind.replace(/List$/, ''), metadata: { resourceVersion: String(this.rv) } } }) + '\n';
    for (const res of this.watchers.get(path)!) res.write(line);
  }

  /** Forgets the event history (etcd compaction): a watch resuming from an older version gets 410. */
  compact(): void {
    for (const c of this.collections.values()) {
      c.history = [];
      c.oldestRv = this.rv;
    }
  }

  /** Kills every open connection abruptly (a network drop). */
  dropConnections(): void {
    for (const set of this.watchers.values()) set.clear();
    for (const s of this.sockets) s.destroy();
  }

  openWatches(path: string): number {
    return this.watchers.get(path)!.size;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const c = this.collections.get(url.pathname);
    const watch = url.searchParams.get('watch') === 'true';
    const resourceVersion = url.searchParams.get('resourceVersion') ?? '';
    const labelSelector = url.searchParams.get('labelSelector') ?? '';
    this.requests.push({ path: url.pathname, watch, resourceVersion, labelSelector });
    if (c === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 404 }));
      return;
    }
    const matches = (o: Obj) => {
      if (labelSelector === '') return true;
      const [k, v] = labelSelector.split('=');
      return o.metadata.labels?.[k] === v;
    };
    if (!watch) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ kind: c.kind, apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items: [...c.objects.values()].filter(matches) }),
      );
      return;
    }
    const from = Number(resourceVersion || '0');
    if (from < c.oldestRv) {
      if (!this.goneAsEvent) {
        res.writeHead(410, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } }) + '\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    for (const e of c.history) if (e.rv > from && matches(e.object)) res.write(JSON.stringify({ type: e.type, object: e.object }) + '\n');
    const set = this.watchers.get(url.pathname)!;
    set.add(res);
    res.on('close', () => set.delete(res));
  }
}
