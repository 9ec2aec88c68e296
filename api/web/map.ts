// The service map: workloads of a namespace over a time range as an SVG graph (a simple layered
// layout: each workload one column right of the furthest workload that calls it), edges with
// flow and drop counts, edges with drops in red. Clicking an edge lists its ports and its flows,
// with links to the flows view and the why page for that pair.
import { getJSON, h, message, s } from './dom.js';
import { FlowList, filterParamsOf, type FilterEntry } from './flows.js';
import type { FlowJSON } from './flow-text.js';

interface ServiceEdge {
  source_namespace?: string;
  source_workload?: string;
  destination_namespace?: string;
  destination_workload?: string;
  protocol?: string;
  destination_port?: number;
  flows?: string | number;
  dropped?: string | number;
}

/** All ports of one source → destination pair, drawn as one line. */
export interface MapEdge {
  from: string;
  to: string;
  src: { namespace: string; workload: string };
  dst: { namespace: string; workload: string };
  ports: Array<{ protocol: string; port: number; flows: number; dropped: number }>;
  flows: number;
  dropped: number;
}

const COL_W = 250;
const ROW_H = 64;
const NODE_W = 190;
const NODE_H = 30;
const PAD = 30;

export function nodeName(namespace: string, workload: string): string {
  if (!workload) return namespace ? `${namespace}/-` : 'world';
  return namespace ? `${namespace}/${workload}` : workload;
}

export function groupEdges(edges: ServiceEdge[]): MapEdge[] {
  const byPair = new Map<string, MapEdge>();
  for (const e of edges) {
    const src = { namespace: e.source_namespace ?? '', workload: e.source_workload ?? '' };
    const dst = { namespace: e.destination_namespace ?? '', workload: e.destination_workload ?? '' };
    const from = nodeName(src.namespace, src.workload);
    const to = nodeName(dst.namespace, dst.workload);
    const key = `${from}\u0000${to}`;
    let m = byPair.get(key);
    if (!m) byPair.set(key, (m = { from, to, src, dst, ports: [], flows: 0, dropped: 0 }));
    const flows = Number(e.flows ?? 0);
    const dropped = Number(e.dropped ?? 0);
    m.ports.push({ protocol: e.protocol ?? '', port: e.destination_port ?? 0, flows, dropped });
    m.flows += flows;
    m.dropped += dropped;
  }
  return [...byPair.values()];
}

/**
 * Column per node: its distance from the workloads nobody calls (breadth first, so calls back
 * along a cycle do not push nodes further right); a cycle nobody enters starts at its first name.
 */
export function layout(edges: MapEdge[]): Map<string, { x: number; y: number }> {
  const names = [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort();
  const out = new Map<string, string[]>();
  const called = new Set<string>();
  for (const e of edges) {
    if (e.from === e.to) continue;
    out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
    called.add(e.to);
  }
  const depth = new Map<string, number>();
  const walk = (start: string) => {
    depth.set(start, 0);
    const queue = [start];
    for (let i = 0; i < queue.length; i++) {
      for (const next of out.get(queue[i]) ?? []) {
        if (depth.has(next)) continue;
        depth.set(next, depth.get(queue[i])! + 1);
        queue.push(next);
      }
    }
  };
  for (const n of names) if (!called.has(n) && !depth.has(n)) walk(n);
  for (const n of names) if (!depth.has(n)) walk(n);
  const rows = new Map<number, number>();
  const pos = new Map<string, { x: number; y: number }>();
  for (const n of names) {
    const col = depth.get(n)!;
    const row = rows.get(col) ?? 0;
    rows.set(col, row + 1);
    pos.set(n, { x: PAD + col * COL_W, y: PAD + row * ROW_H });
  }
  return pos;
}

/** Query parameters selecting one end of an edge, in the form the rollup named it. */
function endFilters(side: 'from' | 'to', end: { namespace: string; workload: string }, asPod: boolean): FilterEntry[] {
  const out: FilterEntry[] = [];
  const f = (key: string, value: string) => out.push({ key: `${side}-${key}`, value, not: false });
  if (end.workload.startsWith('reserved:')) {
    f('label', end.workload);
    if (end.namespace) f('namespace', end.namespace);
  } else if (!end.workload) {
    if (end.namespace) f('namespace', end.namespace);
  } else if (asPod) f('pod', end.namespace ? `${end.namespace}/${end.workload}` : end.workload);
  else {
    if (end.namespace) f('namespace', end.namespace);
    f('workload', end.workload);
  }
  return out;
}

function portFilters(e: MapEdge): FilterEntry[] {
  // One port and protocol narrow the flows; an edge over several keeps them all.
  if (e.ports.length !== 1) return [];
  const p = e.ports[0];
  const out: FilterEntry[] = [];
  if (p.protocol) out.push({ key: 'protocol', value: p.protocol.toLowerCase(), not: false });
  if (p.port) out.push({ key: 'to-port', value: String(p.port), not: false });
  return out;
}

/**
 * The filter sets that may select an edge's flows, most likely first: a rolled-up name is the
 * endpoint's workload, else its reserved identity, else its pod name (a pod without an owner).
 */
/** Height of an edge label, and about the width of one of its characters (px). */
const LABEL_H = 16;
const LABEL_CHAR_W = 7;

/** A label already on the map: its centre and width. */
export interface PlacedLabel {
  x: number;
  y: number;
  w: number;
}

/**
 * Where a label of `text` centred at (x, y) goes: moved down a line at a time until it covers
 * no label placed before it, then added to `placed`. Edges that cross between the same two
 * columns can share a midpoint, and one label would hide the other from the pointer.
 */
export function placeLabel(placed: PlacedLabel[], x: number, y: number, text: string): number {
  const w = text.length * LABEL_CHAR_W;
  const covers = (p: PlacedLabel) => Math.abs(p.x - x) < (p.w + w) / 2 && Math.abs(p.y - y) < LABEL_H;
  for (let i = 0; i < 50 && placed.some(covers); i++) y += LABEL_H;
  placed.push({ x, y, w });
  return y;
}

export function edgeFilterCandidates(e: MapEdge): FilterEntry[][] {
  const out: FilterEntry[][] = [];
  for (const srcPod of [false, true])
    for (const dstPod of [false, true]) {
      const set = [...endFilters('from', e.src, srcPod), ...endFilters('to', e.dst, dstPod), ...portFilters(e)];
      if (!out.some((o) => JSON.stringify(o) === JSON.stringify(set))) out.push(set);
    }
  return out;
}

export function renderMap(root: HTMLElement, url: URL): () => void {
  const sp = url.searchParams;
  const namespace = h('select', { name: 'namespace', id: 'map-namespace' }, h('option', { value: '' }, '(all namespaces)'));
  const since = h('input', { name: 'since', value: sp.get('since') ?? '1h', size: 22 });
  const until = h('input', { name: 'until', value: sp.get('until') ?? '', size: 22, placeholder: 'now' });
  const graph = h('div', { id: 'map-graph' });
  const edgePanel = h('div', { id: 'edge-panel' });
  const messages = h('div');
  let abort = new AbortController();

  const load = async () => {
    abort.abort();
    abort = new AbortController();
    const p = new URLSearchParams();
    if (namespace.value) p.set('namespace', namespace.value);
    if (since.value.trim()) p.set('since', since.value.trim());
    if (until.value.trim()) p.set('until', until.value.trim());
    history.replaceState(null, '', `/map?${p}`);
    p.set('limit', '300');
    messages.replaceChildren();
    edgePanel.replaceChildren();
    graph.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    const r = await getJSON<{ edges?: ServiceEdge[] }>(`/api/v1/service-map?${p}`, abort.signal).catch((err: Error) => err);
    if (r instanceof Error) {
      if (r.name !== 'AbortError') messages.replaceChildren(message('error', `The API did not answer: ${r.message}`));
      return;
    }
    if (r.status !== 200) {
      graph.replaceChildren();
      return messages.replaceChildren(message('error', r.message ?? `HTTP ${r.status}`, 'map-error'));
    }
    const edges = groupEdges(r.body.edges ?? []);
    if (!edges.length) return graph.replaceChildren(message('info', 'No traffic in this range.'));
    graph.replaceChildren(draw(edges, (e, el) => void showEdge(e, el)));
  };

  let selectedEdge: Element | undefined;
  const showEdge = async (e: MapEdge, el: Element) => {
    selectedEdge?.classList.remove('selected');
    selectedEdge = el;
    el.classList.add('selected');
    const sinceV = since.value.trim();
    const untilV = until.value.trim();
    const list = new FlowList();
    const status = h('p', { class: 'muted', id: 'edge-status' }, 'Loading flows…');
    const flowsLink = h('a', { id: 'edge-flows-link', 'data-link': true }, 'Open in the flows view');
    const why = new URLSearchParams();
    for (const f of [...endFilters('from', e.src, false), ...endFilters('to', e.dst, false), ...portFilters(e)]) why.append(f.key, f.value);
    if (sinceV) why.set('since', sinceV);
    if (untilV) why.set('until', untilV);
    edgePanel.replaceChildren(
      h(
        'section',
        { class: 'panel', 'data-edge': `${e.from} -> ${e.to}` },
        h('h3', {}, `${e.from} → ${e.to}`),
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', {}, 'Protocol'), h('th', {}, 'Port'), h('th', {}, 'Flows'), h('th', {}, 'Dropped'))),
          h(
            'tbody',
            {},
            ...e.ports.map((p) =>
              h(
                'tr',
                {},
                h('td', {}, p.protocol || '-'),
                h('td', {}, p.port || '-'),
                h('td', {}, p.flows),
                h('td', { class: p.dropped ? 'verdict verdict-DROPPED' : '' }, p.dropped),
              ),
            ),
          ),
        ),
        h(
          'div',
          { class: 'bar' },
          flowsLink,
          h('a', { href: `/why?${why}`, 'data-link': true, id: 'edge-why-link' }, e.dropped ? 'Why are flows dropped?' : 'Why (diagnose this pair)'),
        ),
        status,
        list.el,
      ),
    );
    // The first filter set that finds flows is the one the rollup's names meant.
    for (const set of edgeFilterCandidates(e)) {
      const page = filterParamsOf(set);
      if (sinceV) page.set('since', sinceV);
      if (untilV) page.set('until', untilV);
      flowsLink.setAttribute('href', `/flows?${page}`);
      page.set('limit', '100');
      const r = await getJSON<{ flows: FlowJSON[] }>(`/api/v1/flows?${page}`);
      if (r.status !== 200) {
        status.replaceChildren(message('error', r.message ?? `HTTP ${r.status}`));
        return;
      }
      if (r.body.flows.length) {
        list.append([...r.body.flows].reverse());
        status.textContent = `Newest ${r.body.flows.length} flows of this edge in the range`;
        return;
      }
    }
    status.textContent = 'No stored flow of this edge in the range (the rollup may count flows that were since deleted by the retention).';
  };

  const form = h(
    'form',
    {
      class: 'panel',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void load();
      },
    },
    h('h2', {}, 'Service map'),
    h(
      'div',
      { class: 'bar' },
      h('label', {}, 'namespace', namespace),
      h('label', {}, 'since', since),
      h('label', {}, 'until', until),
      h('button', { type: 'submit', class: 'primary', id: 'map-apply' }, 'Show map'),
    ),
    h('div', { class: 'legend' }, h('span', {}, 'edge label: flows'), h('span', { class: 'drop' }, 'red dashed: some flows dropped (flows / dropped)')),
  );
  root.replaceChildren(form, messages, graph, edgePanel);
  void getJSON<{ namespaces?: Array<{ namespace: string }> }>('/api/v1/namespaces').then((r) => {
    const names = (r.body?.namespaces ?? []).map((n) => n.namespace).filter(Boolean);
    const want = sp.get('namespace') ?? '';
    if (want && !names.includes(want)) names.push(want);
    for (const n of names.sort()) namespace.append(h('option', { value: n }, n));
    namespace.value = want;
    void load();
  });
  return () => abort.abort();
}

function draw(edges: MapEdge[], onEdge: (e: MapEdge, el: Element) => void): SVGElement {
  const pos = layout(edges);
  let w = 0;
  let hgt = 0;
  for (const p of pos.values()) {
    w = Math.max(w, p.x + NODE_W + PAD);
    hgt = Math.max(hgt, p.y + NODE_H + PAD);
  }
  const svg = s('svg', { class: 'map', width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}`, role: 'img', 'aria-label': 'service map' });
  svg.append(
    s(
      'defs',
      {},
      s(
        'marker',
        { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
        s('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#9aa3b5' }),
      ),
    ),
  );
  // Lines under nodes, their labels over everything so that a label is always clickable.
  const labels: SVGElement[] = [];
  const placed: PlacedLabel[] = [];
  for (const e of [...edges].sort((a, b) => a.flows - b.flows)) {
    const a = pos.get(e.from)!;
    const b = pos.get(e.to)!;
    let d: string;
    let lx: number;
    let ly: number;
    if (e.from === e.to) {
      const x = a.x + NODE_W / 2;
      d = `M${x - 20},${a.y} C${x - 40},${a.y - 40} ${x + 40},${a.y - 40} ${x + 20},${a.y}`;
      lx = x;
      ly = a.y - 32;
    } else {
      const x1 = a.x + NODE_W;
      const y1 = a.y + NODE_H / 2;
      const forward = b.x > a.x;
      const x2 = forward ? b.x : b.x + NODE_W;
      const y2 = b.y + NODE_H / 2;
      const bend = forward ? (x2 - x1) / 2 : 80;
      d = forward
        ? `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`
        : `M${x1},${y1} C${x1 + bend},${y1 + 40} ${x2 + bend},${y2 - 40} ${x2},${y2}`;
      lx = (x1 + x2) / 2 + (forward ? 0 : bend / 2);
      ly = (y1 + y2) / 2 - 4;
    }
    const cls = e.dropped ? ' dropped' : '';
    const data = { 'data-from': e.from, 'data-to': e.to, 'data-flows': e.flows, 'data-dropped': e.dropped };
    const title = `${e.from} → ${e.to}: ${e.flows} flows, ${e.dropped} dropped (${e.ports.map((p) => `${p.protocol}${p.port ? `/${p.port}` : ''}`).join(', ')})`;
    const g = s(
      'g',
      { class: `edge${cls}`, ...data },
      s('title', {}, title),
      s('path', { class: 'line', d, 'marker-end': 'url(#arrow)' }),
      s('path', { class: 'hit', d }),
    );
    const text = e.dropped ? `${e.flows} / ${e.dropped} dropped` : String(e.flows);
    const label = s(
      'g',
      { class: `edge edge-label${cls}`, ...data },
      s('title', {}, title),
      s('text', { x: lx, y: placeLabel(placed, lx, ly, text), 'text-anchor': 'middle' }, text),
    );
    const select = () => onEdge(e, g);
    g.addEventListener('click', select);
    label.addEventListener('click', select);
    svg.append(g);
    labels.push(label);
  }
  for (const [name, p] of pos) {
    const text = name.length > 28 ? `${name.slice(0, 27)}…` : name;
    svg.append(
      s(
        'g',
        { class: 'node', 'data-name': name, transform: `translate(${p.x},${p.y})` },
        s('title', {}, name),
        s('rect', { width: NODE_W, height: NODE_H, rx: 5 }),
        s('text', { x: 8, y: 19 }, text),
      ),
    );
  }
  svg.append(...labels);
  return svg;
}
