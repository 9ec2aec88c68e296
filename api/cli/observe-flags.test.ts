import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRequest, parseObserveArgs, rawFiltersYAML, UsageError, DEFAULT_FIELD_MASK, NUMBER_ALL } from './observe-flags.js';
import type { FlowFilter, GetFlowsRequest } from '../../proto/index.js';

const NOW = Date.UTC(2026, 6, 31, 12, 0, 0); // 2026-07-31T12:00:00Z
const ctx = { nowMs: NOW, env: {} };
// jsonpb output carries no default field mask, which keeps filter expectations short.
const req = (...args: string[]): GetFlowsRequest => parseObserveArgs([...args, '-o', 'jsonpb'], ctx).request;
const lists = (...args: string[]): { whitelist?: FlowFilter[]; blacklist?: FlowFilter[] } => {
  const r = req(...args);
  return { ...(r.whitelist ? { whitelist: r.whitelist } : {}), ...(r.blacklist ? { blacklist: r.blacklist } : {}) };
};

const filterCases: Array<[string[], { whitelist?: FlowFilter[]; blacklist?: FlowFilter[] }]> = [
  [['--pod', 'x'], { whitelist: [{ source_pod: ['x'] }, { destination_pod: ['x'] }] }],
  [['--from-pod', 'a', '--to-pod', 'b'], { whitelist: [{ source_pod: ['a'], destination_pod: ['b'] }] }],
  [['--from-pod', 'a', '--from-pod', 'b'], { whitelist: [{ source_pod: ['a', 'b'] }] }],
  [
    ['--pod', 'a', '--protocol', 'tcp'],
    {
      whitelist: [
        { source_pod: ['a'], protocol: ['tcp'] },
        { destination_pod: ['a'], protocol: ['tcp'] },
      ],
    },
  ],
  [
    ['--ip', '10.0.0.1', '--to-port', '80'],
    {
      whitelist: [
        { source_ip: ['10.0.0.1'], destination_port: ['80'] },
        { destination_ip: ['10.0.0.1'], destination_port: ['80'] },
      ],
    },
  ],
  [['--ip', '10.0.0.0/8'], { whitelist: [{ source_ip: ['10.0.0.0/8'] }, { destination_ip: ['10.0.0.0/8'] }] }],
  [['--from-ip', 'fd00::1', '--to-ip', '1.1.1.1'], { whitelist: [{ source_ip: ['fd00::1'], destination_ip: ['1.1.1.1'] }] }],
  [['--snat-ip', '192.168.0.1'], { whitelist: [{ source_ip_xlated: ['192.168.0.1'] }] }],
  [['-n', 'kube-system'], { whitelist: [{ source_pod: ['kube-system/'] }, { destination_pod: ['kube-system/'] }] }],
  [['--namespace', 'a', '--namespace', 'b'], { whitelist: [{ source_pod: ['a/', 'b/'] }, { destination_pod: ['a/', 'b/'] }] }],
  [['--from-namespace', 'a'], { whitelist: [{ source_pod: ['a/'] }] }],
  [['--to-namespace', 'b'], { whitelist: [{ destination_pod: ['b/'] }] }],
  [['--from-namespace', 'a', '--to-namespace', 'b'], { whitelist: [{ source_pod: ['a/'], destination_pod: ['b/'] }] }],
  [['-n', 'ns', '--pod', 'web'], { whitelist: [{ source_pod: ['ns/web'] }, { destination_pod: ['ns/web'] }] }],
  [['--from-namespace', 'ns', '--from-service', 'api'], { whitelist: [{ source_service: ['ns/api'] }] }],
  [['-A'], { whitelist: [{ source_pod: ['/'] }, { destination_pod: ['/'] }] }],
  [['--from-all-namespaces'], { whitelist: [{ source_pod: ['/'] }] }],
  [['--to-all-namespaces'], { whitelist: [{ destination_pod: ['/'] }] }],
  [['-l', 'app=web'], { whitelist: [{ source_label: ['app=web'] }, { destination_label: ['app=web'] }] }],
  [['--from-label', 'a=b', '--to-label', 'reserved:world'], { whitelist: [{ source_label: ['a=b'], destination_label: ['reserved:world'] }] }],
  [['--service', 'ns/svc'], { whitelist: [{ source_service: ['ns/svc'] }, { destination_service: ['ns/svc'] }] }],
  [['--to-service', 'svc'], { whitelist: [{ destination_service: ['svc'] }] }],
  [['--port', '53'], { whitelist: [{ source_port: ['53'] }, { destination_port: ['53'] }] }],
  [['--from-port', '1', '--to-port', '443'], { whitelist: [{ source_port: ['1'], destination_port: ['443'] }] }],
  [['--protocol', 'tcp', '--protocol', 'udp'], { whitelist: [{ protocol: ['tcp', 'udp'] }] }],
  [['--verdict', 'DROPPED', '--verdict', 'FORWARDED'], { whitelist: [{ verdict: [2, 1] }] }],
  [['--drop-reason-desc', 'POLICY_DENIED'], { whitelist: [{ drop_reason_desc: [133] }] }],
  [
    ['--kernel-drop-reason', 'no_socket', '--kernel-drop-reason', 'SKB_DROP_REASON_NETFILTER_DROP'],
    { whitelist: [{ kernel_drop_reason: ['NO_SOCKET', 'NETFILTER_DROP'] }] },
  ],
  [['-t', 'drop'], { whitelist: [{ event_type: [{ type: 1 }] }] }],
  [['--type', 'trace:to-endpoint'], { whitelist: [{ event_type: [{ type: 4, match_sub_type: true }] }] }],
  [['--type', 'trace:from-network'], { whitelist: [{ event_type: [{ type: 4, match_sub_type: true, sub_type: 10 }] }] }],
  [['--type', 'drop:133'], { whitelist: [{ event_type: [{ type: 1, match_sub_type: true, sub_type: 133 }] }] }],
  [['--type', 'policy-verdict', '--type', 'l7'], { whitelist: [{ event_type: [{ type: 5 }, { type: 129 }] }] }],
  [['--type', 'trace-sock'], { whitelist: [{ event_type: [{ type: 7 }] }] }],
  [['--type', 'capture'], { whitelist: [{ event_type: [{ type: 3 }] }] }],
  [['--type', 'agent:policy-updated'], { whitelist: [{ event_type: [{ type: 130, match_sub_type: true, sub_type: 5 }] }] }],
  [['--type', '9'], { whitelist: [{ event_type: [{ type: 9 }] }] }],
  [['--node-name', 'k8s*'], { whitelist: [{ node_name: ['k8s*'] }] }],
  [['--identity', 'world'], { whitelist: [{ source_identity: [2] }, { destination_identity: [2] }] }],
  [['--from-identity', '12345', '--to-identity', 'kube-apiserver'], { whitelist: [{ source_identity: [12345], destination_identity: [7] }] }],
  [['--fqdn', '*.cilium.io'], { whitelist: [{ source_fqdn: ['*.cilium.io'] }, { destination_fqdn: ['*.cilium.io'] }] }],
  [['--from-fqdn', 'a.com'], { whitelist: [{ source_fqdn: ['a.com'] }] }],
  [['--to-fqdn', 'b.com'], { whitelist: [{ destination_fqdn: ['b.com'] }] }],
  [
    ['--workload', 'Deployment/web'],
    { whitelist: [{ source_workload: [{ kind: 'Deployment', name: 'web' }] }, { destination_workload: [{ kind: 'Deployment', name: 'web' }] }] },
  ],
  [
    ['--from-workload', 'web', '--to-workload', 'StatefulSet/'],
    { whitelist: [{ source_workload: [{ name: 'web' }], destination_workload: [{ kind: 'StatefulSet' }] }] },
  ],
  [['--tcp-flags', 'syn,ack', '--tcp-flags', 'fin'], { whitelist: [{ tcp_flags: [{ SYN: true, ACK: true }, { FIN: true }] }] }],
  [['--traffic-direction', 'ingress'], { whitelist: [{ traffic_direction: [1] }] }],
  [['--traffic-direction', 'EGRESS'], { whitelist: [{ traffic_direction: [2] }] }],
  [['--uuid', 'cd75b2ac-8dd3-486b-beca-3d17d9d56cff'], { whitelist: [{ uuid: ['cd75b2ac-8dd3-486b-beca-3d17d9d56cff'] }] }],
  [['--ip-version', 'v6'], { whitelist: [{ ip_version: [2] }] }],
  [['-4', '-6'], { whitelist: [{ ip_version: [1, 2] }] }],
  [['--ip-version', 'none'], { whitelist: [{ ip_version: [0] }] }],
  [
    ['--http-status', '5+', '--http-method', 'get', '--http-path', '/a', '--http-url', 'http://x/'],
    { whitelist: [{ http_status_code: ['5+'], http_method: ['get'], http_path: ['/a'], http_url: ['http://x/'] }] },
  ],
  [['--http-header', 'foo:bar'], { whitelist: [{ http_header: [{ key: 'foo', value: 'bar' }] }] }],
  [['--trace-id', 'abc', '--ip-trace-id', '42'], { whitelist: [{ trace_id: ['abc'], ip_trace_id: [42] }] }],
  [['--cluster', 'c1'], { whitelist: [{ source_cluster_name: ['c1'] }, { destination_cluster_name: ['c1'] }] }],
  [['--node-label', 'a=b', '--interface', 'eth0', '--encrypted'], { whitelist: [{ node_labels: ['a=b'], interface: [{ name: 'eth0' }], encrypted: [true] }] }],
  [['--cel-expression', '_flow.verdict == 1'], { whitelist: [{ experimental: { cel_expression: ['_flow.verdict == 1'] } }] }],
  // --not negates only the next filter flag.
  [['--not', '--from-ip', '2.2.2.2'], { blacklist: [{ source_ip: ['2.2.2.2'] }] }],
  [['--not', '--pod', 'a', '--to-port', '80'], { whitelist: [{ destination_port: ['80'] }], blacklist: [{ source_pod: ['a'] }, { destination_pod: ['a'] }] }],
  [['--not', '--verdict', 'DROPPED', '--not', '--verdict', 'ERROR'], { blacklist: [{ verdict: [2, 3] }] }],
  [
    ['--not', '-n', 'kube-system', '--namespace', 'default'],
    {
      whitelist: [{ source_pod: ['default/'] }, { destination_pod: ['default/'] }],
      blacklist: [{ source_pod: ['kube-system/'] }, { destination_pod: ['kube-system/'] }],
    },
  ],
  // The same flags may appear in both lists.
  [
    ['--label', 'a', '--not', '--from-label', 'b'],
    { whitelist: [{ source_label: ['a'] }, { destination_label: ['a'] }], blacklist: [{ source_label: ['b'] }] },
  ],
  [['--allowlist', '{"source_pod":["x"]}', '--denylist', '{"verdict":["DROPPED"]}'], { whitelist: [{ source_pod: ['x'] }], blacklist: [{ verdict: [2] }] }],
];

for (const [args, expected] of filterCases) {
  test(`filters: ${args.join(' ')}`, () => {
    assert.deepEqual(lists(...args), expected);
  });
}

const badCases: Array<[string[], RegExp]> = [
  [['--bogus'], /unknown option '--bogus'/],
  [['extra-arg'], /too many arguments/],
  [['--last'], /argument missing/],
  [['--last', 'ten'], /invalid argument "ten" for "--last"/],
  [['--first', '-1'], /invalid argument "-1" for "--first"/],
  [['--since', 'yesterday'], /failed to parse the since time/],
  [['--until', '2026-13-01'], /failed to parse the until time/],
  [['--since', '2026-02-30T00:00:00Z'], /failed to parse the since time/],
  [['--since', '5 minutes'], /failed to parse the since time/],
  [['--ip', '10.0.0.256'], /invalid --ip value/],
  [['--from-ip', '10.0.0.0/33'], /invalid --from-ip value/],
  [['--to-ip', 'fd00::/129'], /invalid --to-ip value/],
  [['--snat-ip', 'host'], /invalid --snat-ip value/],
  [['--port', '65536'], /invalid --port value/],
  [['--to-port', 'http'], /invalid --to-port value/],
  [['--from-port', '-1'], /invalid --from-port value/],
  [['--verdict', 'dropped'], /invalid --verdict value: dropped/],
  [['--drop-reason-desc', 'NOPE'], /invalid --drop-reason-desc value: NOPE/],
  [['--drop-reason-desc', ''], /empty --drop-reason-desc value/],
  [['--kernel-drop-reason', 'no socket'], /invalid kernel drop reason/],
  [['--type', 'bogus'], /unable to parse type 'bogus'/],
  [['--type', 'drop:Policy denied'], /unable to parse event sub-type 'Policy denied'/],
  [['--type', 'trace:to-nowhere'], /unable to parse event sub-type 'to-nowhere'/],
  [['--identity', 'nobody'], /invalid security identity/],
  [['--tcp-flags', 'syn,bogus'], /unknown tcp flag: bogus/],
  [['--traffic-direction', 'sideways'], /sideways: invalid traffic direction/],
  [['--http-header', 'nocolon'], /expected name:value/],
  [['--ip-trace-id', '0'], /must be greater than 0/],
  [['--not'], /trailing --not found in the arguments/],
  [['--not', '--not', '--pod', 'a'], /consecutive --not statements/],
  [['--label', 'a', '--from-label', 'b'], /filters --label and --from-label cannot be combined/],
  [['--ip', '1.1.1.1', '--from-pod', 'x'], /filters --ip and --from-pod cannot be combined/],
  [['--port', '1', '--to-port', '2'], /filters --port and --to-port cannot be combined/],
  [['--encrypted', '--unencrypted'], /filters --encrypted and --unencrypted cannot be combined/],
  [['-n', 'a', '--to-pod', 'b/x'], /cannot be combined/],
  [['--from-namespace', 'a', '--from-pod', 'b/x'], /namespace conflict: "a" does not contain "b\/x"/],
  [['--first', '5', '--last', '5'], /cannot set both --first and --last/],
  [['--first', '5', '--all'], /cannot set both --first and --all/],
  [['--first', '5', '--follow'], /cannot set both --first and --follow/],
  [['--last', '5', '--all'], /cannot set both --last and --all/],
  [['-o', 'yaml'], /invalid output format: yaml/],
  [['-o', 'table', '--follow'], /table output format is not compatible with follow mode/],
  [['-o', 'compact', '--field-mask', 'time'], /compact output format is not compatible with custom field mask/],
  [['-o', 'jsonpb', '--field-mask', 'time,bogus.field'], /invalid path "bogus.field"/],
  [['--allowlist', '{not json'], /invalid --allowlist flag/],
  [['--denylist', '{"verdict":["NOPE"]}'], /invalid --denylist flag/],
  [['--timeout', 'soon'], /invalid argument "soon" for "--timeout"/],
  [['--time-zone', 'Mars/Olympus'], /invalid time zone/],
];

for (const [args, message] of badCases) {
  test(`usage error: ${args.join(' ')}`, () => {
    assert.throws(
      () => parseObserveArgs(args, ctx),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
    );
  });
}

test('default: last 20 with the default field mask for compact output', () => {
  assert.deepEqual(parseObserveArgs([], ctx).request, { number: 20, field_mask: { paths: DEFAULT_FIELD_MASK } });
});

test('--no-use-default-field-masks drops the mask', () => {
  assert.deepEqual(parseObserveArgs(['--no-use-default-field-masks'], ctx).request, { number: 20 });
});

test('number selection follows hubble', () => {
  assert.deepEqual(req('--last', '5'), { number: 5 });
  assert.deepEqual(req('--first', '7'), { number: 7, first: true });
  assert.deepEqual(req('--all'), { number: NUMBER_ALL });
  assert.deepEqual(req('-f'), { follow: true });
  assert.deepEqual(req('--follow', '--last', '3'), { number: 3, follow: true });
  assert.deepEqual(req('--input-file', 'flows.json'), {});
  assert.deepEqual(req('--last', '0x10'), { number: 16 });
  // --since/--until disable the default count, and --all only applies without them.
  assert.deepEqual(req('--since', '5m'), { since: { seconds: NOW / 1000 - 300, nanos: 0 } });
  assert.deepEqual(req('--since', '1h30m', '--all'), { since: { seconds: NOW / 1000 - 5400, nanos: 0 } });
  assert.deepEqual(req('--until', '2026-07-31T10:00:00Z', '--last', '4'), { number: 4, until: { seconds: Date.UTC(2026, 6, 31, 10) / 1000, nanos: 0 } });
  // --until is ignored in follow mode.
  assert.deepEqual(req('--until', '1m', '-f'), { follow: true });
});

test('time layouts accepted by --since', () => {
  const since = (v: string): GetFlowsRequest['since'] => req('--since', v).since;
  assert.deepEqual(since('1.5h'), { seconds: NOW / 1000 - 5400, nanos: 0 });
  assert.deepEqual(since('250ms'), { seconds: NOW / 1000 - 1, nanos: 750_000_000 });
  assert.deepEqual(since('-1m'), { seconds: NOW / 1000 + 60, nanos: 0 });
  assert.deepEqual(since('2026-07-30'), { seconds: Date.UTC(2026, 6, 30) / 1000, nanos: 0 });
  assert.deepEqual(since('2026-07-30T05Z'), { seconds: Date.UTC(2026, 6, 30, 5) / 1000, nanos: 0 });
  assert.deepEqual(since('2026-07-30T05:06+02:00'), { seconds: Date.UTC(2026, 6, 30, 3, 6) / 1000, nanos: 0 });
  assert.deepEqual(since('2026-07-30T05:06:07.123456789Z'), { seconds: Date.UTC(2026, 6, 30, 5, 6, 7) / 1000, nanos: 123456789 });
  assert.deepEqual(since('2026-07-30T05:06:07.5-01:30'), { seconds: Date.UTC(2026, 6, 30, 6, 36, 7) / 1000, nanos: 500_000_000 });
  assert.deepEqual(since('Thu, 30 Jul 2026 05:06:07 +0000'), { seconds: Date.UTC(2026, 6, 30, 5, 6, 7) / 1000, nanos: 0 });
});

test('output options resolve like hubble', () => {
  const out = (...args: string[]) => parseObserveArgs(args, ctx).output;
  assert.equal(out('-o', 'json').output, 'jsonpb'); // -o json is an alias of jsonpb
  assert.equal(parseObserveArgs(['-o', 'json'], { ...ctx, env: { HUBBLE_COMPAT: 'legacy-json-output' } }).output.output, 'json');
  assert.equal(out('-o', 'tab').output, 'table');
  assert.equal(out('--time-format', 'rfc3339').timeLayout, '2006-01-02T15:04:05Z07:00');
  assert.equal(out('--time-format', 'whatever').timeLayout, 'Jan _2 15:04:05.000');
  assert.equal(out('--numeric').ipTranslation, false);
  assert.equal(out('--no-ip-translation').ipTranslation, false);
  assert.equal(out().ipTranslation, true);
  assert.equal(out().color, false); // auto, not a terminal
  assert.equal(parseObserveArgs([], { ...ctx, isTTY: true }).output.color, true);
  assert.equal(parseObserveArgs(['--color', 'never'], { ...ctx, isTTY: true }).output.color, false);
  assert.equal(out('--color', 'always').color, true);
  assert.equal(out('--print-node-name').nodeName, true);
  assert.equal(out('--time-zone', 'UTC').timeZone, 'UTC');
  const inv = parseObserveArgs(['--server', 'relay:4245', '--input-file', '-', '--timeout', '1m'], ctx);
  assert.equal(inv.server, 'relay:4245');
  assert.equal(inv.inputFile, '-');
  assert.equal(inv.connection.dialTimeoutMs, 60000);
  assert.equal(parseObserveArgs([], ctx).server, 'localhost:4245');
  assert.equal(parseObserveArgs([], { ...ctx, env: { HUBBLE_SERVER: 'h:1' } }).server, 'h:1');
});

test('buildRequest is the pure form of the flag parser', () => {
  assert.deepEqual(
    buildRequest({ filters: [{ flag: 'not' }, { flag: 'pod', value: 'a' }, { flag: 'verdict', value: 'DROPPED' }], output: 'jsonpb', last: '3' }, ctx),
    { number: 3, blacklist: [{ source_pod: ['a'] }, { destination_pod: ['a'] }], whitelist: [{ verdict: [2] }] },
  );
});

test('--print-raw-filters YAML', () => {
  assert.equal(
    rawFiltersYAML(req('--pod', "it's", '--not', '--verdict', 'DROPPED')),
    'allowlist:\n    - \'{"source_pod":["it\'\'s"]}\'\n    - \'{"destination_pod":["it\'\'s"]}\'\ndenylist:\n    - \'{"verdict":["DROPPED"]}\'\n',
  );
  assert.equal(rawFiltersYAML(req()), '{}\n');
});
