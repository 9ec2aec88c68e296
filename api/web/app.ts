// The flow explorer's entry point: a tiny router over the app's paths (/ and /flows, /map, /why,
// /status). Links marked data-link change the view without a page load; each view returns the
// function that stops what it started (a live stream, a refresh timer).
import { renderFlows } from './flows.js';
import { renderMap } from './map.js';
import { renderStatus } from './status.js';
import { renderWhy } from './why.js';
import { apiToken, authHooks, h, setApiToken } from './dom.js';

type View = (root: HTMLElement, url: URL) => () => void;

const VIEWS: Record<string, { name: string; render: View }> = {
  '/': { name: 'flows', render: renderFlows },
  '/flows': { name: 'flows', render: renderFlows },
  '/map': { name: 'map', render: renderMap },
  '/why': { name: 'why', render: renderWhy },
  '/status': { name: 'status', render: renderStatus },
};

let stopView: (() => void) | undefined;

function show(): void {
  stopView?.();
  const url = new URL(location.href);
  const view = VIEWS[url.pathname] ?? VIEWS['/'];
  for (const a of document.querySelectorAll<HTMLAnchorElement>('header nav a[data-view]')) a.classList.toggle('active', a.dataset.view === view.name);
  document.title = `flowscope · ${view.name}`;
  const root = document.getElementById('view')!;
  stopView = view.render(root, url);
  root.dataset.view = view.name;
}

document.addEventListener('click', (ev) => {
  const a = (ev.target as Element | null)?.closest?.('a[data-link]') as HTMLAnchorElement | null;
  if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0 || !a.href) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin) return;
  ev.preventDefault();
  history.pushState(null, '', url);
  show();
});
window.addEventListener('popstate', show);

// The token field: shown when the API answers 401, or while a token is in use (to change or
// forget it). The token stays in this tab's sessionStorage.
const tokenInput = h('input', { type: 'password', id: 'token', name: 'token', size: 24, autocomplete: 'off', placeholder: 'bearer token' });
const tokenForm = h(
  'form',
  {
    id: 'token-form',
    class: 'token',
    onsubmit: (ev: Event) => {
      ev.preventDefault();
      setApiToken(tokenInput.value.trim() || null);
      tokenInput.value = '';
      tokenForm.hidden = !apiToken();
      show();
    },
  },
  h('label', { for: 'token', id: 'token-label' }, 'Token'),
  tokenInput,
  h('button', { type: 'submit', id: 'token-use' }, 'Use'),
  h(
    'button',
    {
      type: 'button',
      id: 'token-forget',
      onclick: () => {
        setApiToken(null);
        show();
      },
    },
    'Forget',
  ),
);
tokenForm.hidden = !apiToken();
document.querySelector('header')!.append(tokenForm);
authHooks.onUnauthorized = () => {
  tokenForm.hidden = false;
  document.getElementById('token-label')!.textContent = apiToken() ? 'Token refused; another' : 'This API needs a token';
  tokenInput.focus();
};
show();
