// The web flow explorer in a real browser (Debian's chromium driven by playwright-core) against a
// real pipeline: a relay with chDB fed by a synthetic collector, the HTTP API serving the app.
// One browser for the file; every wait is for a condition, with generous timeouts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { freePort, startProc, waitFor, waitHealthy, type Proc } from '../../testing/harness.js';
import { browserMissing, launchBrowser } from '../../testing/browser.js';
import { buildApi } from '../http/server.js';
import { hashToken, TokenSet } from '../../common/auth/token-file.js';

const skip = browserMissing();
const WAIT = 120_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-web-'));
let relay: Proc | undefined;
let collector: Proc | undefined;
let app: ReturnType<typeof buildApi> | undefined;
let browser: Browser | undefined;
let page: Page;
let base = '';
let relayAddress = '';
const pageErrors: string[] = [];

interface Edge {
  source_namespace?: string;
  source_workload?: string;
  destination_namespace?: string;
  destination_workload?: string;
  flows: string;
  dropped?: string;
}

async function api<T>(url: string): Promise<{ status: number; body: T }> {
  const r = await app!.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.json() as T };
}

before(async () => {
  if (skip) return;
  const server = `127.0.0.1:${await freePort()}`;
  relayAddress = server;
  relay = startProc(['relay', '--listen', server, '--data-dir', path.join(dir, 'chdb'), '--flush-interval', '50']);
  await waitHealthy(server);
  collector = startProc(['collector', '--rate', '200', '--relay', server, '--node-name', 'browser-node', '--listen', `127.0.0.1:${await freePort()}`]);
  app = buildApi({ server });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  await waitFor(
    'stored drops',
    async () => ((await api<{ flows: unknown[] }>('/api/v1/flows?verdict=DROPPED&last=5')).body.flows.length >= 5 ? true : undefined),
    240_000,
  );
  browser = await launchBrowser();
  page = await browser.newPage();
  page.setDefaultTimeout(WAIT);
  page.on('pageerror', (err) => pageErrors.push(err.message));
});

after(async () => {
  await browser?.close();
  await app?.close();
  await collector?.stop();
  await relay?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Rows of a flows table as the page shows them. */
function rows(scope: string): Promise<Array<{ uuid: string; verdict: string; time: string; colour: string }>> {
  return page.$$eval(`${scope} tr.flow`, (trs) =>
    trs.map((tr) => ({
      uuid: tr.getAttribute('data-uuid') ?? '',
      verdict: tr.getAttribute('data-verdict') ?? '',
      time: tr.getAttribute('data-time') ?? '',
      colour: getComputedStyle(tr.querySelector('td.verdict')!).color,
    })),
  );
}

test('flows: filter bar, verdict colours, a flow in full, the observe command, a rejected filter, live', { skip }, async () => {
  await page.goto(`${base}/`);
  await page.waitForSelector('#filters .filter-row select[name=filter-key] option[value=verdict]', { state: 'attached' });
  await page.waitForSelector('tr.flow');

  // Only drops: every row DROPPED, in the drop colour.
  await page.selectOption('#filters .filter-row select[name=filter-key]', 'verdict');
  await page.fill('#filters .filter-row input[name=filter-value]', 'DROPPED');
  await page.fill('input[name=since]', '1h');
  await page.click('#apply');
  await page.waitForFunction(() => {
    const trs = [...document.querySelectorAll('tr.flow')];
    return trs.length > 0 && trs.every((tr) => tr.getAttribute('data-verdict') === 'DROPPED');
  });
  const drops = await rows('#view');
  assert.ok(drops.length >= 5);
  assert.ok(
    drops.every((r) => r.colour === 'rgb(198, 40, 40)'),
    JSON.stringify(drops.slice(0, 3)),
  );
  assert.match(page.url(), /\/flows\?verdict=DROPPED&since=1h$/);
  assert.equal(await page.textContent('#observe-command-text'), 'flowscope observe --verdict DROPPED --since 1h --last 100');
  // The same flows the API gives for that query, newest first.
  const fromApi = (await api<{ flows: Array<{ uuid: string }> }>(`/api/v1/flows?verdict=DROPPED&since=1h&until=${encodeURIComponent(drops[0].time)}&last=5`))
    .body.flows;
  assert.deepEqual(
    drops.slice(0, 5).map((r) => r.uuid),
    fromApi.map((f) => f.uuid).reverse(),
  );

  // A flow's every field.
  await page.click(`tr.flow[data-uuid="${drops[1].uuid}"]`);
  await page.waitForSelector('#flow-details');
  assert.equal(await page.textContent('#flow-details tr[data-field=uuid] td:last-child'), drops[1].uuid);
  assert.equal(await page.textContent('#flow-details tr[data-field=verdict] td:last-child'), 'DROPPED');
  assert.ok((await page.$$('#flow-details tr[data-field]')).length > 10, 'many fields');
  assert.match((await page.textContent('#flow-command')) ?? '', new RegExp(`^flowscope observe --uuid ${drops[1].uuid} `));

  // Negated: not FORWARDED; and a second filter row.
  await page.check('#filters .filter-row input[name=filter-not]');
  await page.fill('#filters .filter-row input[name=filter-value]', 'FORWARDED');
  await page.click('#add-filter');
  await page.selectOption('#filters .filter-row:nth-child(2) select[name=filter-key]', 'node-name');
  await page.fill('#filters .filter-row:nth-child(2) input[name=filter-value]', 'browser-node');
  await page.click('#apply');
  await page.waitForFunction(
    () => /not=true&verdict=FORWARDED&node-name=browser-node/.test(location.search) && document.querySelectorAll('tr.flow').length > 0,
  );
  assert.ok((await rows('#view')).every((r) => r.verdict !== 'FORWARDED'));
  assert.equal(await page.textContent('#observe-command-text'), 'flowscope observe --not --verdict FORWARDED --node-name browser-node --since 1h --last 100');

  // A bad value: the API's message, the row marked.
  await page.selectOption('#filters .filter-row:nth-child(2) select[name=filter-key]', 'port');
  await page.fill('#filters .filter-row:nth-child(2) input[name=filter-value]', 'eighty');
  await page.click('#apply');
  await page.waitForSelector('#flows-error');
  assert.match((await page.textContent('#flows-error')) ?? '', /port/);

  // Live: flows stamped after the follow started arrive over the stream.
  await page.fill('#filters .filter-row:nth-child(2) input[name=filter-value]', '');
  await page.click('#filters .filter-row:nth-child(2) button');
  await page.uncheck('#filters .filter-row input[name=filter-not]');
  await page.check('input[name=live]');
  // Now verdict=FORWARDED: live rows of that verdict only.
  const startedMs = Date.now();
  await page.click('#apply');
  await page.waitForFunction(
    (since) => [...document.querySelectorAll('tr.flow')].some((tr) => Date.parse(tr.getAttribute('data-time') ?? '') > since),
    startedMs,
    { timeout: WAIT },
  );
  assert.ok((await rows('#view')).every((r) => r.verdict === 'FORWARDED'));
  assert.match(page.url(), /live=1/);
  assert.match((await page.textContent('#observe-command-text')) ?? '', /--follow/);
  assert.deepEqual(pageErrors, []);
});

test('a token: asked for on 401, kept for the tab, sent in a header (history and live), never in a URL', { skip }, async () => {
  const token = 'fs_browser-test-token-0123456789abcdefghijklmnop';
  // A second API over the same relay that requires a token of its own file.
  const secured = buildApi({ server: relayAddress, tokens: new TokenSet([{ name: 'ui', sha256: hashToken(token), namespaces: ['*'] }]) });
  await secured.listen({ host: '127.0.0.1', port: 0 });
  const securedBase = `http://127.0.0.1:${(secured.server.address() as AddressInfo).port}`;
  const p = await browser!.newPage();
  p.setDefaultTimeout(WAIT);
  const urls: string[] = [];
  const authorized: string[] = [];
  p.on('request', (r) => {
    urls.push(r.url());
    if (r.headers().authorization === `Bearer ${token}`) authorized.push(new URL(r.url()).pathname);
  });
  try {
    await p.goto(`${securedBase}/flows`);
    await p.waitForSelector('#token-form:not([hidden])');
    assert.equal(await p.textContent('#token-label'), 'This API needs a token');
    assert.equal(await p.$$eval('tr.flow', (trs) => trs.length), 0);
    await p.fill('#token', token);
    await p.click('#token-use');
    await p.waitForSelector('tr.flow');
    assert.equal(await p.evaluate(() => sessionStorage.getItem('flowscope-token')), token);
    // Live through fetch streaming, with the header.
    await p.check('input[name=live]');
    const startedMs = Date.now();
    await p.click('#apply');
    await p.waitForFunction(
      (since) => [...document.querySelectorAll('tr.flow')].some((tr) => Date.parse(tr.getAttribute('data-time') ?? '') > since),
      startedMs,
      { timeout: WAIT },
    );
    assert.ok(authorized.includes('/api/v1/flows'), authorized.join(' '));
    assert.ok(authorized.includes('/api/v1/flows/stream'), authorized.join(' '));
    for (const u of urls) assert.ok(!u.includes(token) && !u.includes(token.slice(3, 15)), u);
    // A wrong token: asked again.
    await p.evaluate(() => sessionStorage.setItem('flowscope-token', 'fs_wrong'));
    await p.goto(`${securedBase}/map`);
    await p.waitForSelector('#token-form:not([hidden])');
    assert.equal(await p.textContent('#token-label'), 'Token refused; another');
  } finally {
    await p.close();
    await secured.close();
  }
});

test('service map: edges with counts, a dropped edge highlighted, its flows on click, the why link', { skip }, async () => {
  const edge = await waitFor(
    'an edge with drops in the service map',
    async () =>
      (await api<{ edges: Edge[] }>('/api/v1/service-map?since=1h&limit=300')).body.edges.find(
        (e) => Number(e.dropped ?? 0) > 0 && e.source_workload && e.destination_workload,
      ),
    WAIT,
  );
  const ns = edge.source_namespace!;
  const from = `${ns}/${edge.source_workload}`;
  const to = `${edge.destination_namespace ? `${edge.destination_namespace}/` : ''}${edge.destination_workload}`;
  await page.click('header nav a[data-view=map]');
  await page.waitForSelector(`#map-namespace option[value="${ns}"]`, { state: 'attached' });
  await page.selectOption('#map-namespace', ns);
  await page.click('#map-apply');
  const sel = `svg.map g.edge.dropped:not(.edge-label)[data-from="${from}"][data-to="${to}"]`;
  const label = `svg.map g.edge-label.dropped[data-from="${from}"][data-to="${to}"]`;
  await page.waitForSelector(sel);
  assert.ok((await page.$$('svg.map g.node')).length >= 2);
  assert.equal(await page.$eval(`${sel} path.line`, (p) => getComputedStyle(p).stroke), 'rgb(198, 40, 40)');
  assert.match((await page.textContent(`${label} text`)) ?? '', /^\d+ \/ \d+ dropped$/);

  await page.click(`${label} text`);
  await page.waitForSelector('#edge-panel tr.flow');
  assert.match((await page.textContent('#edge-status')) ?? '', /^Newest \d+ flows/);
  const uuids = (await rows('#edge-panel')).map((r) => r.uuid);
  // The panel's flows are the edge's: the flows view link asks the API for the same ones.
  const link = new URL((await page.getAttribute('#edge-flows-link', 'href'))!, base);
  link.searchParams.set('limit', '100');
  const viaApi = (await api<{ flows: Array<{ uuid: string; source: { namespace: string } }> }>(`/api/v1/flows?${link.searchParams}`)).body.flows;
  assert.ok(viaApi.length > 0 && viaApi.every((f) => f.source.namespace === ns));
  assert.ok(uuids.every((u) => viaApi.some((f) => f.uuid === u) || uuids.length === 100));

  const why = new URL((await page.getAttribute('#edge-why-link', 'href'))!, base);
  assert.equal(why.pathname, '/why');
  assert.equal(why.searchParams.get('from-namespace'), ns);
  assert.equal(why.searchParams.get('from-workload'), edge.source_workload);
  assert.equal(why.searchParams.get('to-workload'), edge.destination_workload);

  // The why page asks the API at once; this API may not have the route yet.
  const whyAnswer = await app!.inject({ method: 'GET', url: `/api/v1/why?${why.searchParams}` });
  await page.click('#edge-why-link');
  await page.waitForURL(/\/why\?/);
  if (whyAnswer.statusCode === 404) {
    await page.waitForSelector('#why-unavailable');
    assert.match((await page.textContent('#why-unavailable')) ?? '', /404/);
  } else {
    assert.equal(whyAnswer.statusCode, 200, whyAnswer.body);
    await page.waitForSelector('#why-verdict');
    assert.equal(await page.textContent('#why-verdict'), (whyAnswer.json() as { verdict: string }).verdict);
  }
  assert.equal(await page.inputValue('input[name=source-namespace]'), ns);
  assert.equal(await page.inputValue('input[name=source-value]'), edge.source_workload);
  assert.deepEqual(pageErrors, []);
});

test('status: relay health, lost events by source, the collector among the nodes', { skip }, async () => {
  await page.click('header nav a[data-view=status]');
  await page.waitForSelector('#nodes tr.node[data-name$="/browser-node"]');
  assert.equal(await page.textContent('#relay-health'), 'SERVING');
  assert.notEqual(await page.getAttribute('#nodes tr.node[data-name$="/browser-node"]', 'data-state'), 'NODE_UNAVAILABLE');
  // NODE_ERROR (the collector's own status call timed out on a loaded machine) is counted as not
  // connected by the relay; the node is listed either way, so only the total is certain.
  assert.match((await page.textContent('#connected-nodes .value')) ?? '', /^[01]\/1$/);
  for (const source of ['perf_event_ring_buffer', 'observer_events_queue', 'hubble_ring_buffer'])
    assert.match((await page.textContent(`#lost-events tr[data-source=${source}] td:last-child`)) ?? '', /^\d[\d,]*$/);
  assert.deepEqual(pageErrors, []);
});
