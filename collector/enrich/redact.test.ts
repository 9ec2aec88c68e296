// Redaction rules one by one, with Hubble's semantics (pkg/hubble/parser/seven http.go, kafka.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Flow } from '../../proto/types.js';
import { REDACTED, Redactor, compileDnsPatterns, headerRedacted, redactUserInfo, stripQuery, type RedactionOptions } from './redact.js';
import { dnsSummary } from '../decode/dns.js';

const NONE: RedactionOptions = { httpUrlQuery: false, httpUserInfo: false, kafkaApiKey: false, httpHeadersAllow: [], httpHeadersDeny: [], dnsQuery: [] };

function httpFlow(url: string, headers: [string, string][] = []): Flow {
  return {
    Type: 2,
    l7: { type: 1, http: { method: 'GET', protocol: 'HTTP/1.1', url, headers: headers.map(([key, value]) => ({ key, value })) } },
    Summary: `HTTP/1.1 GET ${url}`,
  };
}

test('stripQuery removes the query and the fragment, whichever comes first', () => {
  assert.equal(stripQuery('http://a.b/p?x=1&token=s#frag'), 'http://a.b/p');
  assert.equal(stripQuery('http://a.b/p#frag?not-a-query'), 'http://a.b/p');
  assert.equal(stripQuery('http://a.b/p'), 'http://a.b/p');
  assert.equal(stripQuery('/relative?q'), '/relative');
});

test('redactUserInfo replaces a password and keeps the user; URLs without one are untouched', () => {
  assert.equal(redactUserInfo('http://alice:s3cret@shop.svc:8080/cart?x=1'), `http://alice:${REDACTED}@shop.svc:8080/cart?x=1`);
  assert.equal(redactUserInfo('https://alice@host/p'), 'https://alice@host/p');
  assert.equal(redactUserInfo('http://host/p?u=a:b@c'), 'http://host/p?u=a:b@c', 'an @ after the authority is not user info');
  assert.equal(redactUserInfo('http://a:b:c@host/'), `http://a:${REDACTED}@host/`, 'the password runs to the last @ of the authority');
  assert.equal(redactUserInfo('/no/authority'), '/no/authority');
});

test("headerRedacted follows Hubble's filterHeader", () => {
  const none = new Set<string>();
  // Enabled with neither list: every value.
  assert.equal(headerRedacted('Content-Type', none, none), true);
  const allow = new Set(['content-type']);
  assert.equal(headerRedacted('Content-Type', allow, none), false, 'allowed, compared case-insensitively');
  assert.equal(headerRedacted('Authorization', allow, none), true, 'not in the allow list');
  const deny = new Set(['authorization', 'cookie']);
  assert.equal(headerRedacted('COOKIE', none, deny), true);
  assert.equal(headerRedacted('Content-Type', none, deny), false, 'not in the deny list');
});

test('Redactor: URL query and user info in the URL and the summary', () => {
  const r = new Redactor({ ...NONE, httpUrlQuery: true, httpUserInfo: true, httpHeadersDeny: ['x-none'] });
  const f = httpFlow('http://bob:pw@api.shop:80/orders?card=4111#x');
  r.enrich(f);
  assert.equal(f.l7!.http!.url, `http://bob:${REDACTED}@api.shop:80/orders`);
  assert.equal(f.Summary, `HTTP/1.1 GET http://bob:${REDACTED}@api.shop:80/orders`);
  assert.equal(r.stats.httpUrls, 1);
  const only = new Redactor({ ...NONE, httpUrlQuery: true, httpHeadersDeny: ['x-none'] });
  const g = httpFlow('http://bob:pw@api.shop/orders?card=4111');
  only.enrich(g);
  assert.equal(g.l7!.http!.url, 'http://bob:pw@api.shop/orders', 'user info stays without --redact-http-userinfo');
});

test('Redactor: headers by allow list, deny list, or all of them', () => {
  const headers: [string, string][] = [
    ['Authorization', 'Bearer abc'],
    ['Content-Type', 'application/json'],
    ['Cookie', 'session=1'],
  ];
  const values = (opts: RedactionOptions): string[] => {
    const f = httpFlow('http://h/', headers);
    new Redactor(opts).enrich(f);
    return f.l7!.http!.headers!.map((h) => h.value!);
  };
  assert.deepEqual(values(NONE), [REDACTED, REDACTED, REDACTED], 'no list: everything, as Hubble does with redaction enabled');
  assert.deepEqual(values({ ...NONE, httpHeadersAllow: ['content-type'] }), [REDACTED, 'application/json', REDACTED]);
  assert.deepEqual(values({ ...NONE, httpHeadersDeny: ['Authorization', 'cookie'] }), [REDACTED, 'application/json', REDACTED]);
  const f = httpFlow('http://h/', headers);
  new Redactor({ ...NONE, httpHeadersDeny: ['cookie'] }).enrich(f);
  assert.deepEqual(
    f.l7!.http!.headers!.map((h) => h.key),
    ['Authorization', 'Content-Type', 'Cookie'],
    'names are kept',
  );
  assert.throws(
    () => new Redactor({ ...NONE, httpHeadersAllow: ['a'], httpHeadersDeny: ['b'] }),
    /only one of --redact-http-headers-allow and --redact-http-headers-deny/,
  );
});

test('Redactor: the Kafka API key, requests and responses alike', () => {
  const r = new Redactor({ ...NONE, kafkaApiKey: true });
  const f: Flow = { l7: { type: 2, kafka: { api_key: 'produce', api_version: 7, topic: 'orders', error_code: 0 } } };
  r.enrich(f);
  assert.deepEqual(f.l7!.kafka, { api_key: REDACTED, api_version: 7, topic: 'orders', error_code: 0 });
  const kept: Flow = { l7: { type: 1, kafka: { api_key: 'fetch', topic: 'orders' } } };
  new Redactor(NONE).enrich(kept);
  assert.equal(kept.l7!.kafka!.api_key, 'fetch');
});

test('compileDnsPatterns: FQDN globs as --fqdn takes them, /RE2/ regexps, trailing dots and case ignored', () => {
  const m = compileDnsPatterns(['*.corp.example.com', 'vault.internal', '/^secret-[0-9]+\\.example\\.org$/']);
  assert.equal(m('db.corp.example.com.'), true);
  assert.equal(m('DB.Corp.Example.COM'), true);
  assert.equal(m('corp.example.com.'), false, '*. needs a label before');
  assert.equal(m('vault.internal.'), true);
  assert.equal(m('vault.internal.evil.'), false, 'globs are anchored');
  assert.equal(m('secret-42.example.org.'), true);
  assert.equal(m('secret-x.example.org.'), false);
  assert.throws(() => compileDnsPatterns(['bad pattern!']), /invalid rune/);
  assert.throws(() => compileDnsPatterns(['/(?<name>x)/']), /redact-dns-query/);
});

test('Redactor: DNS query, CNAMEs, summary and DNS-learned endpoint names', () => {
  const r = new Redactor({ ...NONE, httpHeadersDeny: ['x'], dnsQuery: ['*.corp.example.com'] });
  const dns = { query: 'db.corp.example.com.', qtypes: ['A'], ips: ['10.1.2.3'], cnames: ['alias.corp.example.com.', 'cdn.other.net.'], ttl: 30, rcode: 0 };
  const shared = Object.freeze(['db.corp.example.com', 'www.other.net']) as string[];
  const f: Flow = { Type: 2, l7: { type: 2, dns: { ...dns } }, Summary: dnsSummary(true, dns), destination_names: shared, source_names: ['cdn.other.net'] };
  r.enrich(f);
  assert.equal(f.l7!.dns!.query, REDACTED);
  assert.deepEqual(f.l7!.dns!.cnames, [REDACTED, 'cdn.other.net.']);
  assert.deepEqual(f.destination_names, [REDACTED, 'www.other.net']);
  assert.deepEqual(shared, ['db.corp.example.com', 'www.other.net'], "the DNS-name cache's shared array is not touched");
  assert.deepEqual(f.source_names, ['cdn.other.net']);
  assert.ok(!f.Summary!.includes('corp.example.com'), f.Summary);
  assert.equal(f.Summary, dnsSummary(true, f.l7!.dns!));
  assert.equal(r.stats.dnsNames, 3);

  const other: Flow = { l7: { type: 1, dns: { query: 'api.stripe.com.', qtypes: ['A'] } }, Summary: 'DNS Query api.stripe.com. A' };
  r.enrich(other);
  assert.equal(other.l7!.dns!.query, 'api.stripe.com.');
  assert.equal(other.Summary, 'DNS Query api.stripe.com. A');
});

test('Redactor: flows without L7 or names pass unchanged', () => {
  const r = new Redactor({ ...NONE, httpUrlQuery: true, kafkaApiKey: true, dnsQuery: ['*.x.y'] });
  const f: Flow = { Type: 1, Summary: 'TCP Flags: SYN', IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 1 } };
  const before = JSON.stringify(f);
  r.enrich(f);
  assert.equal(JSON.stringify(f), before);
});
