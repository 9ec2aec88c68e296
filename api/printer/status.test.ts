import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatHealthcheck, formatServerStatus, healthStatusText, statusOutputFormat } from './status.js';
import { formatNodes } from './nodes.js';
import type { ObserverNode, ServerStatusResponse } from '../../proto/index.js';

const relayStatus: ServerStatusResponse = {
  num_flows: 8190,
  max_flows: 8190,
  seen_flows: 1234567,
  uptime_ns: 3_723_500_000_000,
  num_connected_nodes: { value: 2 },
  num_unavailable_nodes: { value: 3 },
  unavailable_nodes: ['node-c', 'node-b'],
  version: '1.19.0',
};

test('status compact (hubble status)', () => {
  assert.equal(formatHealthcheck('localhost:4245', healthStatusText('SERVING')), 'Healthcheck (via localhost:4245): Ok\n');
  assert.equal(healthStatusText('NOT_SERVING'), 'Unavailable: NOT_SERVING');
  assert.equal(
    formatServerStatus(relayStatus, 'compact'),
    'Current/Max Flows: 8,190/8,190 (100.00%)\nFlows/s: 331.56\nConnected Nodes: 2/5\nUnavailable Nodes: 3\n  - node-b\n  - node-c\n  - and 1 more...\n',
  );
  // An agent: no node counts, a server-side rate.
  assert.equal(
    formatServerStatus({ num_flows: 100, max_flows: 4095, seen_flows: 100, uptime_ns: 1e9, flows_rate: 0.125 }, 'compact'),
    'Current/Max Flows: 100/4,095 (2.44%)\nFlows/s: 0.12\n',
  );
  assert.equal(formatServerStatus({}, 'compact'), 'Current/Max Flows: 0/0\nFlows/s: N/A\n');
});

test('status dict, table and json', () => {
  assert.equal(
    formatServerStatus(relayStatus, 'dict'),
    '          NUM FLOWS: 8,190\n          MAX FLOWS: 8,190\n         SEEN FLOWS: 1,234,567\n   FLOWS PER SECOND: N/A\n' +
      '             UPTIME: 1h2m3.5s\nNUM CONNECTED NODES: 2\n NUM UNAVAIL. NODES: 3\n            VERSION: 1.19.0\n',
  );
  assert.equal(
    formatServerStatus(relayStatus, 'table'),
    'NUM FLOWS   MAX FLOWS   SEEN FLOWS   FLOWS PER SECOND   UPTIME     NUM CONNECTED NODES   NUM UNAVAILABLE NODES   VERSION\n' +
      '8,190       8,190       1,234,567    N/A                1h2m3.5s   2                     3                       1.19.0\n',
  );
  assert.equal(
    formatServerStatus(relayStatus, 'json'),
    '{"num_flows":"8190","max_flows":"8190","seen_flows":"1234567","uptime_ns":"3723500000000","num_connected_nodes":2,"num_unavailable_nodes":3,"unavailable_nodes":["node-c","node-b"],"version":"1.19.0"}\n',
  );
  assert.equal(statusOutputFormat('tab'), 'table');
  assert.equal(statusOutputFormat('jsonpb'), 'json');
  assert.equal(statusOutputFormat('yaml'), undefined);
});

const nodes: ObserverNode[] = [
  {
    name: 'kind-worker',
    version: '1.19.0',
    address: '172.18.0.2:4244',
    state: 1,
    tls: { enabled: true, server_name: 'x' },
    uptime_ns: 5_400_600_000_000,
    num_flows: 4095,
    max_flows: 4095,
    seen_flows: 10800,
  },
  { name: 'kind-control-plane', address: '172.18.0.3:4244', state: 2 },
  { name: 'kind-worker2', state: 1, uptime_ns: 59_500_000_000, num_flows: 10, max_flows: 4095, seen_flows: 120, tls: {} },
];

test('list nodes table and wide', () => {
  assert.equal(
    formatNodes(nodes, 'table'),
    'NAME                 STATUS        AGE       FLOWS/S   CURRENT/MAX-FLOWS\n' +
      'kind-control-plane   Unavailable   N/A       N/A       N/A\n' +
      'kind-worker          Connected     1h30m1s   2.00      4095/4095 (100.00%)\n' +
      'kind-worker2         Connected     1m0s      2.00      10/4095 (  0.24%)\n',
  );
  assert.equal(
    formatNodes(nodes, 'wide'),
    'NAME                 STATUS        AGE       FLOWS/S   CURRENT/MAX-FLOWS     VERSION   ADDRESS           TLS\n' +
      'kind-control-plane   Unavailable   N/A       N/A       N/A                   N/A       172.18.0.3:4244   N/A\n' +
      'kind-worker          Connected     1h30m1s   2.00      4095/4095 (100.00%)   1.19.0    172.18.0.2:4244   Enabled\n' +
      'kind-worker2         Connected     1m0s      2.00      10/4095 (  0.24%)     N/A                         Disabled\n',
  );
});

test('list nodes json', () => {
  assert.equal(
    formatNodes([nodes[1]], 'json'),
    '[\n  {\n    "name": "kind-control-plane",\n    "address": "172.18.0.3:4244",\n    "state": "NODE_UNAVAILABLE"\n  }\n]\n',
  );
  assert.equal(formatNodes(undefined, 'json'), 'null\n');
  assert.equal(formatNodes([], 'table'), 'NAME   STATUS   AGE   FLOWS/S   CURRENT/MAX-FLOWS\n');
});
