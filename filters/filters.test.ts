import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Flow, FlowFilter } from '../proto/types.js';
import { compileFlowFilters, validateFlowFilters, flowFiltersToSQL, FilterError } from './index.js';
import { parseIP, formatIP, parseCIDR, cidrContains } from '../schema/ip-addr.js';
import { requestURIPath } from '../schema/http-path.js';

const m = (ff: FlowFilter, f: Flow) => compileFlowFilters([ff])(f);
const bad = (ff: FlowFilter, re: RegExp) =>
  assert.throws(
    () => validateFlowFilters([ff]),
    (e: unknown) => e instanceof FilterError && re.test(e.message),
  );

test('whitelist OR, blacklist NOT, fields AND', () => {
  const f: Flow = { verdict: 2, source: { namespace: 'a', pod_name: 'p1' } };
  assert.equal(compileFlowFilters([], [])(f), true);
  assert.equal(compileFlowFilters([{ verdict: [1] }, { verdict: [2] }])(f), true);
  assert.equal(compileFlowFilters([{ verdict: [2], source_pod: ['b/'] }])(f), false);
  assert.equal(compileFlowFilters([], [{ verdict: [2] }])(f), false);
  assert.equal(compileFlowFilters([{}], [])(f), true);
  assert.equal(compileFlowFilters([], [{}])(f), false);
  assert.equal(flowFiltersToSQL([], []).sql, '1');
});

test('ip: exact string, CIDR with Go net semantics, validation', () => {
  const f: Flow = { IP: { source: '10.0.1.5', destination: '2001:db8::1' } };
  assert.ok(m({ source_ip: ['10.0.1.5'] }, f));
  assert.ok(m({ source_ip: ['10.0.0.0/16'] }, f));
  assert.ok(!m({ source_ip: ['10.1.0.0/16'] }, f));
  assert.ok(m({ destination_ip: ['2001:db8::/32'] }, f));
  assert.ok(!m({ destination_ip: ['2001:DB8::1'] }, f), 'exact match is a string comparison');
  assert.ok(m({ source_ip: ['::ffff:10.0.0.0/104'] }, f), 'v4-mapped v6 network is an IPv4 network in Go');
  assert.ok(!m({ source_ip: ['::/0'] }, f), 'an IPv6 network never contains an IPv4 address');
  assert.ok(m({ source_ip: ['0.0.0.0/0'] }, { IP: { source: '::ffff:1.2.3.4' } }));
  assert.ok(!m({ source_ip: ['0.0.0.0/0'] }, {}));
  bad({ source_ip: ['300.1.1.1'] }, /invalid IP address in filter: "300.1.1.1"/);
  bad({ destination_ip: ['10.0.0.0/33'] }, /invalid CIDR in filter/);
  bad({ source_ip: ['01.2.3.4'] }, /invalid IP address/);
  assert.equal(formatIP(parseIP('2001:0db8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
  assert.equal(formatIP(parseIP('::ffff:1.2.3.4')!), '1.2.3.4');
  assert.equal(formatIP(parseIP('1:0:2:3:4:5:6:7')!), '1:0:2:3:4:5:6:7');
  assert.equal(parseIP('fe80::1%eth0'), undefined);
  assert.ok(cidrContains(parseCIDR('::ffff:0:0/96')!, parseIP('8.8.8.8')!));
});

test('pod and service: namespace/prefix, bare name in default, namespace/', () => {
  const f: Flow = {
    source: { namespace: 'kube-system', pod_name: 'coredns-abc' },
    destination: { namespace: 'default', pod_name: 'web-1' },
    destination_service: { namespace: 'default', name: 'web' },
  };
  assert.ok(m({ source_pod: ['kube-system/core'] }, f));
  assert.ok(m({ source_pod: ['kube-system/'] }, f));
  assert.ok(!m({ source_pod: ['coredns'] }, f), 'bare name means namespace default');
  assert.ok(m({ destination_pod: ['web'] }, f));
  assert.ok(m({ destination_service: ['default/we'] }, f));
  assert.ok(!m({ source_service: ['default/'] }, f));
  bad({ source_pod: [''] }, /must be \[namespace\/\]\[<name>\]/);
  bad({ source_pod: ['/'] }, /must be/);
});

test('labels: selectors with sources, sets, negation, existence', () => {
  const f: Flow = { source: { labels: ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=prod', 'reserved:host', 'k8s:tier=3'] } };
  assert.ok(m({ source_label: ['k8s:app=web'] }, f));
  assert.ok(m({ source_label: ['app=web'] }, f), 'bare key matches any source');
  assert.ok(!m({ source_label: ['foo:app=web'] }, f));
  assert.ok(m({ source_label: ['app in (api, web)'] }, f));
  assert.ok(!m({ source_label: ['app notin (api, web)'] }, f));
  assert.ok(m({ source_label: ['!db'] }, f));
  assert.ok(m({ source_label: ['reserved:host'] }, f));
  assert.ok(m({ source_label: ['k8s:io.kubernetes.pod.namespace=prod,app'] }, f));
  assert.ok(!m({ source_label: ['app!=web'] }, f));
  assert.ok(m({ source_label: ['tier>2'] }, f));
  assert.ok(!m({ source_label: ['tier<2'] }, f));
  assert.ok(m({ source_label: ['app=db', 'app=web'] }, f), 'selectors are ORed');
  bad({ source_label: ['app in ()'] }, /invalid source label filter/);
  bad({ destination_label: ['app=(x'] }, /invalid destination label filter/);
});

test('port, protocol, tcp flags', () => {
  const tcp: Flow = { l4: { TCP: { source_port: 4000, destination_port: 80, flags: { SYN: true, ACK: true } } } };
  const icmp: Flow = { l4: { ICMPv4: { type: 8 } } };
  assert.ok(m({ destination_port: ['80'] }, tcp));
  assert.ok(!m({ destination_port: ['80'] }, icmp));
  assert.ok(m({ source_port: ['0'] }, { l4: { UDP: {} } }), 'a present UDP header has port 0');
  bad({ source_port: ['x'] }, /invalid port "x"/);
  bad({ destination_port: ['65536'] }, /invalid port "65536"/);
  assert.ok(m({ protocol: ['TCP'] }, tcp));
  assert.ok(m({ protocol: ['icmp'] }, icmp));
  assert.ok(!m({ protocol: ['icmpv6', 'udp'] }, icmp));
  assert.ok(m({ protocol: ['dns'] }, { l7: { dns: {} } }));
  bad({ protocol: ['gopher'] }, /unknown protocol: "gopher"/);
  assert.ok(m({ tcp_flags: [{ SYN: true }] }, tcp));
  assert.ok(!m({ tcp_flags: [{ SYN: true, FIN: true }] }, tcp));
  assert.ok(m({ tcp_flags: [{ FIN: true }, { ACK: true }] }, tcp));
  assert.ok(!m({ tcp_flags: [{ SYN: true }] }, icmp));
});

test('event type, reply, identity, verdict, drop reason, interface, workload, cluster', () => {
  const f: Flow = {
    verdict: 2,
    drop_reason_desc: 133,
    event_type: { type: 1, sub_type: 133 },
    source: { identity: 42, workloads: [{ name: 'api', kind: 'Deployment' }], cluster_name: 'c1' },
    interface: { index: 3, name: 'eth0' },
  };
  assert.ok(m({ event_type: [{ type: 1 }] }, f));
  assert.ok(m({ event_type: [{ type: 1, match_sub_type: true, sub_type: 133 }] }, f));
  assert.ok(!m({ event_type: [{ type: 1, match_sub_type: true, sub_type: 0 }] }, f));
  assert.ok(!m({ event_type: [{ type: 0 }] }, {}), 'flows without event_type never match');
  assert.ok(m({ reply: [false] }, f), 'unknown is_reply counts as false for drops');
  assert.ok(!m({ reply: [false] }, { verdict: 1 }));
  assert.ok(m({ reply: [true] }, { verdict: 1, is_reply: { value: true } }));
  assert.ok(m({ source_identity: [42] }, f));
  assert.ok(!m({ destination_identity: [0] }, f), 'a missing endpoint never matches');
  assert.ok(m({ verdict: [2, 1] }, f));
  assert.ok(m({ drop_reason_desc: [133] }, f));
  assert.ok(!m({ drop_reason_desc: [133] }, { ...f, verdict: 1 }));
  assert.ok(m({ interface: [{ name: 'eth0' }] }, f));
  assert.ok(!m({ interface: [{ index: 4, name: 'eth0' }] }, f));
  assert.ok(m({ source_workload: [{ kind: 'Deployment' }] }, f));
  assert.ok(!m({ source_workload: [{ name: 'api', kind: 'StatefulSet' }] }, f));
  assert.ok(m({ source_cluster_name: ['c1'] }, f));
  bad({ destination_cluster_name: [''] }, /name must not be empty/);
});

test('node name, fqdn, dns query', () => {
  assert.ok(m({ node_name: ['k8s*'] }, { node_name: 'k8s1' }));
  assert.ok(m({ node_name: ['default/k8s1'] }, { node_name: 'k8s1' }));
  assert.ok(m({ node_name: ['prod/'] }, { node_name: 'prod/node-a.example' }));
  assert.ok(!m({ node_name: ['prod/*'] }, { node_name: 'k8s1' }));
  bad({ node_name: ['a/b/c'] }, /too many slashes/);
  bad({ node_name: ['no!de'] }, /invalid rune/);
  assert.ok(m({ destination_fqdn: ['*.example.com'] }, { destination_names: ['www.example.com'] }));
  assert.ok(m({ destination_fqdn: ['WWW.example.com.'] }, { destination_names: ['www.example.com'] }));
  assert.ok(!m({ destination_fqdn: ['*.example.com'] }, { destination_names: ['example.org'] }));
  assert.ok(m({ dns_query: ['example\\.com$'] }, { l7: { dns: { query: 'www.example.com.' } } }) === false);
  assert.ok(m({ dns_query: ['^www\\.'] }, { l7: { dns: { query: 'www.example.com.' } } }));
  assert.ok(!m({ dns_query: ['.*'] }, {}));
  bad({ dns_query: ['(?i)foo'] }, /unsupported regexp syntax/);
  bad({ dns_query: ['(a'] }, /invalid regexp/);
  bad({ dns_query: ['\\1'] }, /unsupported regexp syntax/);
});

test('http fields and the l7 event type requirement', () => {
  const f: Flow = { l7: { http: { code: 404, method: 'GET', url: 'http://svc/api/v1%2Fx?q=1', headers: [{ key: 'x-user', value: 'bob' }] } } };
  assert.ok(m({ http_status_code: ['404'] }, f));
  assert.ok(m({ http_status_code: ['4+'] }, f));
  assert.ok(!m({ http_status_code: ['40+'] }, { l7: { http: { method: 'GET' } } }));
  bad({ http_status_code: ['600'] }, /invalid status code prefix: "600"/);
  assert.ok(m({ http_method: ['get'] }, f));
  assert.ok(m({ http_path: ['^/api/v1/x$'] }, f), 'path is percent-decoded');
  assert.ok(m({ http_url: ['q=1'] }, f));
  assert.ok(m({ http_header: [{ key: 'x-user' }] }, f));
  assert.ok(!m({ http_header: [{ key: 'x-user', value: 'eve' }] }, f));
  bad({ http_method: ['GET'], event_type: [{ type: 1 }] }, /requires the event type filter to only match 'l7' events/);
  assert.equal(requestURIPath('/a%zz'), undefined);
  assert.equal(requestURIPath('relative/path'), undefined);
  assert.equal(requestURIPath('/p%20q?x'), '/p q');
});

test('uuid, trace ids, ip version, encrypted, cel', () => {
  const f: Flow = { uuid: 'u1', trace_context: { parent: { trace_id: 't1' } }, ip_trace_id: { trace_id: 7 }, IP: { ipVersion: 2, encrypted: true } };
  assert.ok(m({ uuid: ['u0', 'u1'] }, f));
  assert.ok(m({ trace_id: ['t1'] }, f));
  assert.ok(m({ ip_trace_id: [7] }, f));
  assert.ok(m({ ip_version: [2] }, f));
  assert.ok(m({ encrypted: [true] }, f));
  assert.ok(m({ encrypted: [false] }, {}));
  bad({ experimental: { cel_expression: ['true'] } }, /not supported/);
});

test('SQL never contains user values', () => {
  const { sql, params } = flowFiltersToSQL([{ source_pod: ["x'; DROP TABLE flows; --/a"], source_label: ['app=web'], http_url: ["'"] }], []);
  assert.ok(!sql.includes('DROP'));
  assert.ok(Object.values(params).includes("x'; DROP TABLE flows; --"));
});
