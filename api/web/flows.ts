// The flows view: a filter bar with every `observe` filter (the parameter list comes from the
// API's own /openapi.json, so it never drifts from the server), history over a time range in
// pages, or live flows over the SSE route; verdict colours; a flow's every field on click; the
// current query as a `flowscope observe` command.
import { commandBox, getJSON, h, message, shellQuote, streamEvents } from './dom.js';
import { endpointText, eventType, flattenFields, protocol, summaryText, timeText, type FlowJSON } from './flow-text.js';

export interface FilterEntry {
  key: string;
  value: string;
  not: boolean;
}

export interface FlowQuery {
  filters: FilterEntry[];
  since: string;
  until: string;
  live: boolean;
  /** Flows per history page. */
  limit: number;
}

interface FilterParam {
  name: string;
  description: string;
  boolean: boolean;
}

/** Live rows kept on screen: older ones are dropped so a long follow stays small. */
export const MAX_LIVE_ROWS = 1000;
/** Stored flows shown before the live ones when following. */
const LIVE_BACKLOG = 50;

let filterParams: Promise<FilterParam[]> | undefined;

/** The filter parameters of GET /api/v1/flows, read once from /openapi.json. */
export function loadFilterParams(): Promise<FilterParam[]> {
  filterParams ??= getJSON<{
    paths: Record<string, { get: { parameters?: Array<{ name: string; description?: string; schema?: { items?: { enum?: string[] } } }> } }>;
  }>('/openapi.json').then((r) => {
    if (r.status !== 200) throw new Error(`/openapi.json answered ${r.status}`);
    const skip = new Set(['last', 'first', 'all', 'since', 'until', 'limit', 'cursor', 'order', 'not']);
    return (r.body.paths['/api/v1/flows']?.get.parameters ?? [])
      .filter((p) => !skip.has(p.name))
      .map((p) => ({ name: p.name, description: p.description ?? '', boolean: Array.isArray(p.schema?.items?.enum) }));
  });
  return filterParams;
}

export function queryFromSearch(search: URLSearchParams): FlowQuery {
  const q: FlowQuery = { filters: [], since: '1h', until: '', live: false, limit: 100 };
  let not = false;
  for (const [key, value] of search) {
    if (key === 'not') not = value !== 'false' && value !== '0';
    else if (key === 'since') q.since = value;
    else if (key === 'until') q.until = value;
    else if (key === 'live') q.live = value !== 'false' && value !== '0';
    else if (key === 'limit') q.limit = Math.min(10_000, Math.max(1, Number(value) || 100));
    else {
      q.filters.push({ key, value, not });
      not = false;
    }
  }
  return q;
}

/** The filters as API query parameters, in order (`not=true` right before the filter it negates). */
export function filterParamsOf(filters: readonly FilterEntry[]): URLSearchParams {
  const p = new URLSearchParams();
  for (const f of filters) {
    if (!f.key) continue;
    if (f.not) p.append('not', 'true');
    p.append(f.key, f.value);
  }
  return p;
}

export function pageSearch(q: FlowQuery): URLSearchParams {
  const p = filterParamsOf(q.filters);
  if (q.live) p.set('live', '1');
  else {
    if (q.since) p.set('since', q.since);
    if (q.until) p.set('until', q.until);
  }
  return p;
}

/** The `flowscope observe` command that prints what the table shows. */
export function observeCommand(q: FlowQuery, booleans: ReadonlySet<string> = new Set()): string {
  const args = ['flowscope', 'observe'];
  for (const f of q.filters) {
    if (!f.key) continue;
    if (f.not) args.push('--not');
    if (booleans.has(f.key)) {
      if (f.value === 'false' || f.value === '0') continue;
      args.push(`--${f.key}`);
    } else args.push(`--${f.key}`, shellQuote(f.value));
  }
  if (q.live) args.push('--follow', '--last', String(LIVE_BACKLOG));
  else {
    if (q.since) args.push('--since', shellQuote(q.since));
    if (q.until) args.push('--until', shellQuote(q.until));
    args.push('--last', String(q.limit));
  }
  return args.join(' ');
}

export function flowRow(f: FlowJSON, onSelect: (f: FlowJSON, row: HTMLTableRowElement) => void): HTMLTableRowElement {
  const verdict = f.verdict ?? '';
  const row = h(
    'tr',
    { class: `flow verdict-${verdict}`, 'data-uuid': f.uuid ?? '', 'data-verdict': verdict, 'data-time': f.time ?? '' },
    h('td', { class: 'mono' }, timeText(f.time)),
    h('td', {}, f.node_name ?? ''),
    h('td', { class: 'mono' }, endpointText(f, 'source')),
    h('td', { class: 'mono' }, endpointText(f, 'destination')),
    h('td', {}, protocol(f)),
    h('td', {}, eventType(f)),
    h('td', { class: `verdict verdict-${verdict}` }, verdict),
    h('td', {}, summaryText(f)),
  );
  row.addEventListener('click', () => onSelect(f, row));
  return row;
}

export function flowsTable(): { table: HTMLTableElement; body: HTMLTableSectionElement } {
  const body = h('tbody');
  const head = h('thead', {}, h('tr', {}, ...['Time', 'Node', 'Source', 'Destination', 'Protocol', 'Type', 'Verdict', 'Summary'].map((t) => h('th', {}, t))));
  return { table: h('table', { class: 'flows' }, head, body), body };
}

/** Every field of one flow, a command that finds it again, and its JSON. */
export function flowDetails(f: FlowJSON, onClose: () => void): HTMLElement {
  const rows = flattenFields(f).map(([k, v]) => h('tr', { 'data-field': k }, h('td', {}, k), h('td', { class: 'mono' }, v)));
  return h(
    'section',
    { id: 'flow-details', class: 'panel' },
    h(
      'div',
      { class: 'bar' },
      h('h3', {}, 'Flow ', h('span', { class: `verdict verdict-${f.verdict ?? ''}` }, f.verdict ?? '')),
      h('button', { type: 'button', onclick: onClose }, 'Close'),
    ),
    f.uuid ? commandBox(`flowscope observe --uuid ${shellQuote(f.uuid)} --since ${shellQuote(f.time ?? '24h')} -o dict`, 'flow-command') : null,
    h('table', {}, h('tbody', {}, ...rows)),
    h('details', {}, h('summary', {}, 'JSON'), h('pre', {}, JSON.stringify(f, null, 2))),
  );
}

/** A table of flows with a details panel beside it: used by this view and the service map's edge panel. */
export class FlowList {
  readonly el: HTMLElement;
  readonly body: HTMLTableSectionElement;
  private readonly detailsSlot = h('div');
  private selected: HTMLTableRowElement | undefined;

  constructor() {
    const { table, body } = flowsTable();
    this.body = body;
    this.el = h('div', { class: 'layout' }, h('div', {}, table), this.detailsSlot);
  }

  row(f: FlowJSON): HTMLTableRowElement {
    return flowRow(f, (flow, row) => this.select(flow, row));
  }

  append(flows: FlowJSON[]): void {
    for (const f of flows) this.body.append(this.row(f));
  }

  clear(): void {
    this.body.replaceChildren();
    this.close();
  }

  private select(f: FlowJSON, row: HTMLTableRowElement): void {
    this.selected?.classList.remove('selected');
    this.selected = row;
    row.classList.add('selected');
    this.el.classList.add('with-details');
    this.detailsSlot.replaceChildren(flowDetails(f, () => this.close()));
  }

  private close(): void {
    this.selected?.classList.remove('selected');
    this.selected = undefined;
    this.el.classList.remove('with-details');
    this.detailsSlot.replaceChildren();
  }
}

export function renderFlows(root: HTMLElement, url: URL): () => void {
  const q = queryFromSearch(url.searchParams);
  const filterBox = h('div', { id: 'filters' });
  const status = h('div', { id: 'flows-status', class: 'muted' });
  const messages = h('div');
  const list = new FlowList();
  const more = h('button', { type: 'button', id: 'load-older', hidden: true }, 'Load older');
  const commandSlot = h('div', { id: 'observe-command' });
  const since = h('input', {
    name: 'since',
    value: q.since,
    size: 22,
    placeholder: '1h or RFC 3339',
    title: 'Range start: a duration back from now or an RFC 3339 time',
  });
  const until = h('input', { name: 'until', value: q.until, size: 22, placeholder: 'now', title: 'Range end (empty: now)' });
  const live = h('input', { type: 'checkbox', name: 'live', checked: q.live });
  let params: FilterParam[] = [];
  let stream: AbortController | undefined;
  let abort = new AbortController();

  const rows: Array<{ el: HTMLElement; read: () => FilterEntry }> = [];
  const addRow = (entry: FilterEntry) => {
    const key = h(
      'select',
      { name: 'filter-key' },
      h('option', { value: '' }, '(filter)'),
      ...params.map((p) => h('option', { value: p.name, title: p.description }, p.name)),
    );
    key.value = entry.key;
    const value = h('input', { name: 'filter-value', value: entry.value, size: 28 });
    const not = h('input', { type: 'checkbox', name: 'filter-not', checked: entry.not });
    const describe = () => {
      const p = params.find((x) => x.name === key.value);
      value.placeholder = p?.boolean ? 'true' : (p?.description ?? '');
      value.title = p?.description ?? '';
    };
    key.addEventListener('change', describe);
    describe();
    const item = {
      el: h('div', {}),
      read: (): FilterEntry => {
        const p = params.find((x) => x.name === key.value);
        return { key: key.value, value: value.value.trim() || (p?.boolean ? 'true' : ''), not: not.checked };
      },
    };
    item.el = h(
      'div',
      { class: 'filter-row', 'data-key': entry.key },
      h('label', { title: 'Exclude what this filter matches (observe --not)' }, not, 'not'),
      key,
      value,
      h(
        'button',
        {
          type: 'button',
          title: 'Remove this filter',
          onclick: () => {
            rows.splice(rows.indexOf(item), 1);
            item.el.remove();
          },
        },
        '×',
      ),
    );
    key.addEventListener('change', () => item.el.setAttribute('data-key', key.value));
    rows.push(item);
    filterBox.append(item.el);
  };

  const readQuery = (): FlowQuery => ({
    filters: rows.map((r) => r.read()).filter((f) => f.key),
    since: since.value.trim(),
    until: until.value.trim(),
    live: live.checked,
    limit: q.limit,
  });

  const stop = () => {
    stream?.abort();
    stream = undefined;
    abort.abort();
    abort = new AbortController();
  };

  const showError = (msg: string, parameter?: string) => {
    messages.replaceChildren(message('error', msg, 'flows-error'));
    for (const r of rows) r.el.classList.toggle('invalid', !!parameter && r.read().key === parameter);
  };

  const run = async () => {
    stop();
    const cur = readQuery();
    history.replaceState(null, '', `/flows?${pageSearch(cur)}`);
    const booleans = new Set(params.filter((p) => p.boolean).map((p) => p.name));
    commandSlot.replaceChildren(commandBox(observeCommand(cur, booleans), 'observe-command-text'));
    messages.replaceChildren();
    for (const r of rows) r.el.classList.remove('invalid');
    list.clear();
    more.hidden = true;
    if (cur.live) return follow(cur);
    await page(cur, undefined);
  };

  const page = async (cur: FlowQuery, cursor: string | undefined) => {
    const p = filterParamsOf(cur.filters);
    if (cur.since) p.set('since', cur.since);
    if (cur.until) p.set('until', cur.until);
    p.set('limit', String(cur.limit));
    if (cursor) p.set('cursor', cursor);
    status.textContent = 'Loading…';
    let r;
    try {
      r = await getJSON<{ flows: FlowJSON[]; next_cursor: string | null }>(`/api/v1/flows?${p}`, abort.signal);
    } catch (err) {
      if ((err as Error).name !== 'AbortError') showError(`The API did not answer: ${(err as Error).message}`);
      return;
    }
    if (r.status !== 200) {
      status.textContent = '';
      return showError(r.message ?? `HTTP ${r.status}`, r.parameter);
    }
    // A page is in time order; the table shows the newest first, like the live view.
    list.append([...r.body.flows].reverse());
    const n = list.body.rows.length;
    status.textContent = n === 0 ? 'No flow matches in this range.' : `${n} flows, newest first${r.body.next_cursor ? '' : ' (all of the range)'}`;
    more.hidden = !r.body.next_cursor;
    more.onclick = () => void page(cur, r.body.next_cursor ?? undefined);
  };

  const follow = (cur: FlowQuery) => {
    const p = filterParamsOf(cur.filters);
    p.set('last', String(LIVE_BACKLOG));
    let lost = 0;
    let count = 0;
    status.textContent = 'Following live flows…';
    const ac = new AbortController();
    stream = ac;
    let ended = false;
    const onEvent = (event: string, data: string) => {
      if (event === 'flow') {
        const f = JSON.parse(data) as FlowJSON;
        list.body.prepend(list.row(f));
        while (list.body.rows.length > MAX_LIVE_ROWS) list.body.lastElementChild?.remove();
        count++;
        status.textContent = `Following: ${count} flows received${lost ? `, ${lost} events lost upstream` : ''} (newest first, at most ${MAX_LIVE_ROWS} kept)`;
      } else if (event === 'lost') {
        lost += Number((JSON.parse(data) as { num_events_lost?: string | number }).num_events_lost ?? 0);
      } else if (event === 'error') {
        // The relay failed: the API ends the stream with its reason.
        ended = true;
        showError(`Live stream ended: ${(JSON.parse(data) as { message: string }).message}`);
      }
    };
    // fetch, not EventSource: the token goes in a header. Reconnects like EventSource would
    // (a refused request, or the API's error event, ends it).
    void (async () => {
      for (;;) {
        try {
          const refused = await streamEvents(`/api/v1/flows/stream?${p}`, ac.signal, onEvent);
          if (refused) return showError(refused.message ?? 'The live stream was refused', refused.parameter);
        } catch {
          /* interrupted: retried below */
        }
        if (ac.signal.aborted || ended) return;
        status.textContent = 'Live stream interrupted, reconnecting…';
        await new Promise((r) => setTimeout(r, 2000));
        if (ac.signal.aborted) return;
      }
    })();
  };

  const form = h(
    'form',
    {
      class: 'panel',
      id: 'flows-form',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void run();
      },
    },
    h('h2', {}, 'Flows'),
    filterBox,
    h(
      'div',
      { class: 'bar' },
      h('button', { type: 'button', id: 'add-filter', onclick: () => addRow({ key: '', value: '', not: false }) }, '+ filter'),
      h('label', {}, 'since', since),
      h('label', {}, 'until', until),
      h('label', { title: 'Follow live flows (Server-Sent Events) instead of reading history' }, live, 'live'),
      h('button', { type: 'submit', class: 'primary', id: 'apply' }, 'Show flows'),
    ),
    commandSlot,
  );
  root.replaceChildren(form, messages, status, list.el, more);

  void loadFilterParams().then(
    (p) => {
      params = p;
      for (const f of q.filters) addRow(f);
      if (!q.filters.length) addRow({ key: '', value: '', not: false });
      void run();
    },
    (err: Error) => showError(`Cannot read the filter list: ${err.message}`),
  );
  return stop;
}
