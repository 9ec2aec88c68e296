// The why page: pick a source and a destination (and optionally the port, protocol and range),
// ask GET /api/v1/why, and show the report generically: the verdict as the headline, then each
// finding with all its fields and its next steps. An API without the route (404) gets a clear
// message instead of an error.
import { commandBox, getJSON, h, message } from './dom.js';

const KINDS = ['workload', 'pod', 'service', 'namespace', 'label', 'ip', 'fqdn', 'identity'] as const;
type Kind = (typeof KINDS)[number];

export interface End {
  kind: Kind;
  namespace: string;
  value: string;
}

/** One end from the page's query (the same parameters the route takes: from-pod, to-workload, …). */
export function endFromSearch(sp: URLSearchParams, side: 'from' | 'to'): End {
  const end: End = { kind: 'workload', namespace: sp.get(`${side}-namespace`) ?? '', value: '' };
  for (const kind of KINDS) {
    if (kind === 'namespace') continue;
    const v = sp.get(`${side}-${kind}`);
    if (v === null) continue;
    end.kind = kind;
    const slash = v.indexOf('/');
    if ((kind === 'pod' || kind === 'service') && slash > 0) {
      end.namespace = v.slice(0, slash);
      end.value = v.slice(slash + 1);
    } else end.value = v;
    return end;
  }
  if (end.namespace) end.kind = 'namespace';
  return end;
}

/** The route's parameters for one end: pods and services as namespace/name, the rest with from-/to-namespace. */
export function endParams(side: 'from' | 'to', e: End, out: URLSearchParams): void {
  const ns = e.namespace.trim();
  const v = e.value.trim();
  if (e.kind === 'pod' || e.kind === 'service') {
    if (v) out.append(`${side}-${e.kind}`, ns && !v.includes('/') ? `${ns}/${v}` : v);
    return;
  }
  if (ns) out.append(`${side}-namespace`, ns);
  if (e.kind !== 'namespace' && v) out.append(`${side}-${e.kind}`, v);
}

interface Finding {
  kind?: string;
  severity?: string;
  summary?: string;
  next_steps?: string[];
  observe_command?: string;
  [k: string]: unknown;
}

interface Report {
  verdict?: string;
  summary?: string;
  source?: string;
  destination?: string;
  findings?: Finding[];
  [k: string]: unknown;
}

function endFields(title: string, e: End): { box: HTMLElement; read: () => End } {
  const kind = h('select', { name: `${title}-kind` }, ...KINDS.map((k) => h('option', { value: k }, k)));
  kind.value = e.kind;
  const ns = h('input', { name: `${title}-namespace`, value: e.namespace, placeholder: 'namespace', size: 14 });
  const value = h('input', { name: `${title}-value`, value: e.value, placeholder: 'name, IP, label…', size: 24 });
  return {
    box: h('fieldset', {}, h('legend', {}, title), h('label', {}, 'namespace ', ns), ' ', kind, ' ', value),
    read: () => ({ kind: kind.value as Kind, namespace: ns.value, value: value.value }),
  };
}

function fieldText(v: unknown): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

export function renderFinding(f: Finding): HTMLElement {
  const known = new Set(['kind', 'severity', 'summary', 'next_steps', 'observe_command']);
  const other = Object.entries(f).filter(([k, v]) => !known.has(k) && v !== undefined && v !== '');
  return h(
    'li',
    { class: `finding severity-${f.severity ?? 'info'}`, 'data-kind': f.kind ?? '' },
    h('div', {}, h('span', { class: 'kind' }, f.kind ?? 'finding'), ' ', h('span', { class: 'pill' }, f.severity ?? ''), ' ', f.summary ?? ''),
    other.length ? h('dl', {}, ...other.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { class: 'mono' }, fieldText(v))])) : null,
    f.next_steps?.length ? h('div', {}, h('strong', {}, 'Next steps'), h('ol', { class: 'next-steps' }, ...f.next_steps.map((s) => h('li', {}, s)))) : null,
    f.observe_command ? commandBox(f.observe_command) : null,
  );
}

export function renderReport(r: Report): HTMLElement {
  const verdict = r.verdict ?? 'UNKNOWN';
  const rest = Object.entries(r).filter(([k]) => !['verdict', 'summary', 'source', 'destination', 'findings'].includes(k));
  return h(
    'section',
    { id: 'why-report', class: 'panel' },
    h('div', { class: 'why-headline' }, h('span', { class: `verdict verdict-${verdict}`, id: 'why-verdict' }, verdict), ' ', r.summary ?? ''),
    r.source || r.destination ? h('p', { class: 'muted' }, `${r.source ?? '?'} → ${r.destination ?? '?'}`) : null,
    h('h3', {}, 'Findings'),
    r.findings?.length ? h('ol', { id: 'why-findings', class: 'findings' }, ...r.findings.map(renderFinding)) : h('p', { class: 'muted' }, 'No findings.'),
    rest.length ? h('details', {}, h('summary', {}, 'Everything the report measured'), h('pre', {}, JSON.stringify(Object.fromEntries(rest), null, 2))) : null,
  );
}

export function renderWhy(root: HTMLElement, url: URL): () => void {
  const sp = url.searchParams;
  const src = endFields('source', endFromSearch(sp, 'from'));
  const dst = endFields('destination', endFromSearch(sp, 'to'));
  const port = h('input', { name: 'to-port', value: sp.get('to-port') ?? '', size: 6, placeholder: 'any' });
  const proto = h('select', { name: 'protocol' }, ...['', 'tcp', 'udp', 'icmp', 'sctp'].map((p) => h('option', { value: p }, p || 'any')));
  proto.value = (sp.get('protocol') ?? '').toLowerCase();
  const since = h('input', { name: 'since', value: sp.get('since') ?? '1h', size: 22 });
  const until = h('input', { name: 'until', value: sp.get('until') ?? '', size: 22, placeholder: 'now' });
  const out = h('div', { id: 'why-result' });
  let abort = new AbortController();

  const ask = async () => {
    abort.abort();
    abort = new AbortController();
    const p = new URLSearchParams();
    endParams('from', src.read(), p);
    endParams('to', dst.read(), p);
    if (port.value.trim()) p.set('to-port', port.value.trim());
    if (proto.value) p.set('protocol', proto.value);
    if (since.value.trim()) p.set('since', since.value.trim());
    if (until.value.trim()) p.set('until', until.value.trim());
    history.replaceState(null, '', `/why?${p}`);
    out.replaceChildren(h('p', { class: 'muted' }, 'Diagnosing…'));
    const r = await getJSON<Report>(`/api/v1/why?${p}`, abort.signal).catch((err: Error) => err);
    if (r instanceof Error) {
      if (r.name !== 'AbortError') out.replaceChildren(message('error', `The API did not answer: ${r.message}`));
      return;
    }
    if (r.status === 404)
      return out.replaceChildren(
        message(
          'info',
          'This API server has no diagnosis route: GET /api/v1/why answered 404. It comes with the `flowscope why` command; run `flowscope api` from a version that has it.',
          'why-unavailable',
        ),
      );
    if (r.status !== 200) return out.replaceChildren(message('error', r.message ?? `HTTP ${r.status}`, 'why-error'));
    out.replaceChildren(renderReport(r.body));
  };

  const form = h(
    'form',
    {
      class: 'panel',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void ask();
      },
    },
    h('h2', {}, 'Why can A not reach B?'),
    h('div', { class: 'bar' }, src.box, dst.box),
    h(
      'div',
      { class: 'bar' },
      h('label', {}, 'port', port),
      h('label', {}, 'protocol', proto),
      h('label', {}, 'since', since),
      h('label', {}, 'until', until),
      h('button', { type: 'submit', class: 'primary', id: 'why-ask' }, 'Diagnose'),
    ),
  );
  root.replaceChildren(form, out);
  // Arriving from a link (the service map's edge) asks at once.
  if ([...sp.keys()].some((k) => k.startsWith('from-')) && [...sp.keys()].some((k) => k.startsWith('to-') && k !== 'to-port')) void ask();
  return () => abort.abort();
}
