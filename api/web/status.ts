// The status page: the relay's health and counters (GET /api/v1/status), the events collectors
// reported lost, and every collector (GET /api/v1/nodes); refreshed every few seconds while shown.
import { duration, getJSON, h, message } from './dom.js';

interface StatusAnswer {
  relay: { address: string; health: string };
  status: {
    num_flows?: string;
    max_flows?: string;
    seen_flows?: string;
    uptime_ns?: string;
    num_connected_nodes?: number;
    num_unavailable_nodes?: number;
    unavailable_nodes?: string[];
    version?: string;
    flows_rate?: number;
  };
  lost_events?: Record<string, number>;
}

interface NodeJSON {
  name?: string;
  version?: string;
  address?: string;
  state?: string;
  uptime_ns?: string;
  num_flows?: string;
  max_flows?: string;
  seen_flows?: string;
}

const REFRESH_MS = 5000;

const card = (label: string, value: string | number, id?: string) =>
  h('div', { class: 'card', id }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
const num = (v: string | number | undefined) => Number(v ?? 0).toLocaleString('en-US');

function relayPanel(s: StatusAnswer): HTMLElement {
  const st = s.status;
  const cur = Number(st.num_flows ?? 0);
  const max = Number(st.max_flows ?? 0);
  const healthy = s.relay.health === 'SERVING';
  return h(
    'section',
    { class: 'panel', id: 'relay-status' },
    h(
      'h3',
      {},
      'Relay ',
      h('span', { class: 'mono' }, s.relay.address),
      ' ',
      h('span', { class: healthy ? 'health-SERVING' : 'health-bad', id: 'relay-health' }, s.relay.health),
    ),
    h(
      'div',
      { class: 'cards' },
      card('Version', st.version ?? ''),
      card('Uptime', duration(st.uptime_ns)),
      card('Connected nodes', `${st.num_connected_nodes ?? 0}/${(st.num_connected_nodes ?? 0) + (st.num_unavailable_nodes ?? 0)}`, 'connected-nodes'),
      card('Current/Max flows', `${num(cur)}/${num(max)}${max ? ` (${((100 * cur) / max).toFixed(2)}%)` : ''}`),
      card('Flows seen', num(st.seen_flows)),
      card('Flows/s', (st.flows_rate ?? 0).toFixed(2)),
    ),
    st.unavailable_nodes?.length ? message('error', `Unavailable: ${st.unavailable_nodes.join(', ')}`) : null,
  );
}

function lossPanel(lost: Record<string, number> | undefined): HTMLElement {
  if (!lost)
    return h(
      'section',
      { class: 'panel', id: 'lost-events' },
      h('h3', {}, 'Lost events'),
      h('p', { class: 'muted' }, 'This server does not count lost events (it is not a relay).'),
    );
  const total = Object.values(lost).reduce((a, b) => a + b, 0);
  return h(
    'section',
    { class: 'panel', id: 'lost-events' },
    h('h3', {}, 'Lost events ', h('span', { class: total ? 'verdict verdict-DROPPED' : 'muted' }, total ? `${num(total)} since the relay started` : 'none')),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Source'), h('th', {}, 'Events lost'))),
      h(
        'tbody',
        {},
        ...Object.entries(lost).map(([src, n]) =>
          h('tr', { 'data-source': src }, h('td', { class: 'mono' }, src), h('td', { class: n ? 'verdict verdict-DROPPED' : '' }, num(n))),
        ),
      ),
    ),
  );
}

function nodesPanel(nodes: NodeJSON[]): HTMLElement {
  return h(
    'section',
    { class: 'panel', id: 'nodes' },
    h('h3', {}, `Nodes (${nodes.length})`),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ...['Name', 'State', 'Address', 'Version', 'Uptime', 'Current/Max flows', 'Seen flows'].map((t) => h('th', {}, t)))),
      h(
        'tbody',
        {},
        ...nodes.map((n) =>
          h(
            'tr',
            { class: 'node', 'data-name': n.name ?? '', 'data-state': n.state ?? '' },
            h('td', { class: 'mono' }, n.name ?? ''),
            h('td', { class: `state-${n.state ?? ''}` }, (n.state ?? '').replace(/^NODE_/, '')),
            h('td', { class: 'mono' }, n.address ?? ''),
            h('td', {}, n.version ?? ''),
            h('td', {}, n.uptime_ns ? duration(n.uptime_ns) : ''),
            h('td', {}, n.max_flows ? `${num(n.num_flows)}/${num(n.max_flows)}` : ''),
            h('td', {}, n.seen_flows ? num(n.seen_flows) : ''),
          ),
        ),
      ),
    ),
  );
}

export function renderStatus(root: HTMLElement): () => void {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const updated = h('span', { class: 'muted', id: 'status-updated' });
  root.replaceChildren(h('div', { class: 'bar' }, h('h2', {}, 'Status'), updated), body);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const refresh = async () => {
    const [st, nodes] = await Promise.all([getJSON<StatusAnswer>('/api/v1/status'), getJSON<{ nodes?: NodeJSON[] }>('/api/v1/nodes')]).catch(
      (err: Error) => [err, err] as const,
    );
    if (stopped) return;
    const parts: HTMLElement[] = [];
    if (st instanceof Error) parts.push(message('error', `The API did not answer: ${st.message}`));
    else if (st.status !== 200) parts.push(message('error', `Relay status: ${st.message ?? `HTTP ${st.status}`}`, 'status-error'));
    else parts.push(relayPanel(st.body), lossPanel(st.body.lost_events));
    if (!(nodes instanceof Error)) {
      if (nodes.status === 200) parts.push(nodesPanel(nodes.body.nodes ?? []));
      else parts.push(message('error', `Nodes: ${nodes.message ?? `HTTP ${nodes.status}`}`));
    }
    body.replaceChildren(...parts);
    updated.textContent = `updated ${new Date().toLocaleTimeString(undefined, { hour12: false })}, every ${REFRESH_MS / 1000} s`;
    timer = setTimeout(() => void refresh(), REFRESH_MS);
  };
  void refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
