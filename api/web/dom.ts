// Small DOM and HTTP helpers for the flow explorer (browser code: no framework, no dependency).

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

/** Creates an element: string attributes are set, `on…` functions become listeners, children appended. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
/** The SVG counterpart of h(). */
export function s(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag) as SVGElement;
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : String(c));
  }
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
  /** The server's message for an error answer (the API's JSON `message`). */
  message?: string;
  /** The rejected query parameter, when the API named one. */
  parameter?: string;
}

/** GET a JSON route; never throws for an HTTP error (the caller shows the message), only for a network failure. */
export async function getJSON<T>(url: string, signal?: AbortSignal): Promise<ApiAnswer<T>> {
  const res = await fetch(url, { headers: { accept: 'application/json' }, signal });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (res.ok) return { status: res.status, body: body as T };
  const e = (body ?? {}) as { message?: string; parameter?: string };
  return { status: res.status, body: body as T, message: e.message ?? (text.slice(0, 300) || res.statusText), parameter: e.parameter };
}

export function message(kind: 'error' | 'info', text: string | Node, id?: string): HTMLElement {
  return h('div', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status', id }, text);
}

/** Copies text to the clipboard; false when the browser refuses (the text stays on screen to copy by hand). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** A command shown as code with a copy button (the text is always visible, so copying by hand works too). */
export function commandBox(command: string, id?: string): HTMLElement {
  const code = h('code', { id }, command);
  const status = h('span', { class: 'muted' });
  const button = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        status.textContent = (await copyText(command)) ? 'copied' : 'select the text to copy';
      },
    },
    'Copy',
  );
  return h('div', { class: 'command' }, code, button, status);
}

/** Quotes a value for a POSIX shell when it needs it. */
export function shellQuote(v: string): string {
  return /^[A-Za-z0-9_./:=@,+%-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

/** "1h 2m 3s" from nanoseconds (uptime fields). */
export function duration(ns: number | string | undefined): string {
  let s = Math.floor(Number(ns ?? 0) / 1e9);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hh = Math.floor(s / 3600);
  s -= hh * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return [d ? `${d}d` : '', hh ? `${hh}h` : '', m ? `${m}m` : '', `${s}s`].filter(Boolean).join(' ');
}
