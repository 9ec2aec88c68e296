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

// The API's bearer token, when it asks for one: kept in sessionStorage (this tab, until it
// closes), sent in the Authorization header — never in a URL, which servers and proxies log.
const TOKEN_KEY = 'flowscope-token';

export function apiToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setApiToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Hooks the app sets: what to do when the API answers 401 (ask for a token). */
export const authHooks = { onUnauthorized: (): void => {} };

function headers(accept: string): Record<string, string> {
  const t = apiToken();
  return t ? { accept, authorization: `Bearer ${t}` } : { accept };
}

/** A response body as JSON; undefined when empty or not JSON (the caller shows the text). */
function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

async function errorAnswer<T>(res: Response): Promise<ApiAnswer<T>> {
  if (res.status === 401) authHooks.onUnauthorized();
  const text = await res.text();
  const body = parseBody(text);
  const e = (body ?? {}) as { message?: string; parameter?: string };
  return { status: res.status, body: body as T, message: e.message ?? (text.slice(0, 300) || res.statusText), parameter: e.parameter };
}

/** GET a JSON route; never throws for an HTTP error (the caller shows the message), only for a network failure. */
export async function getJSON<T>(url: string, signal?: AbortSignal): Promise<ApiAnswer<T>> {
  const res = await fetch(url, { headers: headers('application/json'), signal });
  if (!res.ok) return errorAnswer<T>(res);
  return { status: res.status, body: parseBody(await res.text()) as T };
}

/**
 * Reads a Server-Sent Events route with fetch (EventSource cannot send the Authorization
 * header), calling `onEvent` per event. Resolves with the API's answer when it refused the
 * request, with null when the stream ended; rejects on a network failure or abort.
 */
export async function streamEvents(url: string, signal: AbortSignal, onEvent: (event: string, data: string) => void): Promise<ApiAnswer<unknown> | null> {
  const res = await fetch(url, { headers: headers('text/event-stream'), signal });
  if (!res.ok) return errorAnswer(res);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    buf += value;
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) onEvent(event, data.join('\n'));
    }
  }
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
