// A from/to filter taken apart: reversed, one end alone, checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPairFilter, endpointOnly, swapSides } from './sides.js';
import { FilterError } from './errors.js';
import type { FlowFilter } from '../proto/types.js';

const pair: FlowFilter = {
  source_pod: ['shop/frontend-'],
  source_label: ['app=web'],
  destination_workload: [{ kind: 'Deployment', name: 'cart' }],
  destination_ip: ['10.0.0.0/8'],
  destination_port: ['7070'],
  protocol: ['tcp'],
};

test('swapSides reverses every sided field, ports included; twice is the identity', () => {
  assert.deepEqual(swapSides(pair), {
    destination_pod: ['shop/frontend-'],
    destination_label: ['app=web'],
    source_workload: [{ kind: 'Deployment', name: 'cart' }],
    source_ip: ['10.0.0.0/8'],
    source_port: ['7070'],
    protocol: ['tcp'],
  });
  assert.deepEqual(swapSides(swapSides(pair)), pair);
  // A copy: changing the result leaves the input alone.
  swapSides(pair).source_ip!.push('1.1.1.1');
  assert.deepEqual(pair.destination_ip, ['10.0.0.0/8']);
});

test('endpointOnly keeps one end (no port, no protocol), on its side or moved', () => {
  assert.deepEqual(endpointOnly(pair, 'source'), { source_pod: ['shop/frontend-'], source_label: ['app=web'] });
  assert.deepEqual(endpointOnly(pair, 'source', 'destination'), { destination_pod: ['shop/frontend-'], destination_label: ['app=web'] });
  assert.deepEqual(endpointOnly(pair, 'destination'), { destination_workload: [{ kind: 'Deployment', name: 'cart' }], destination_ip: ['10.0.0.0/8'] });
  assert.deepEqual(endpointOnly(pair, 'destination', 'source'), { source_workload: [{ kind: 'Deployment', name: 'cart' }], source_ip: ['10.0.0.0/8'] });
});

test('checkPairFilter wants both ends and nothing else', () => {
  checkPairFilter(pair);
  const bad: Array<[FlowFilter, RegExp]> = [
    [{ destination_pod: ['a/'] }, /source endpoint is missing/],
    [{ source_pod: ['a/'], destination_port: ['80'], protocol: ['tcp'] }, /destination endpoint is missing/],
    [{ ...pair, verdict: [2] }, /verdict cannot be used here/],
    [{ ...pair, http_method: ['GET'] }, /http_method cannot be used here/],
    [{ ...pair, source_port: ['1234'] }, /source_port cannot be used here/],
  ];
  for (const [ff, re] of bad)
    assert.throws(
      () => checkPairFilter(ff),
      (e: Error) => e instanceof FilterError && re.test(e.message),
      JSON.stringify(ff),
    );
  // Empty lists are unset, as Hubble reads them.
  checkPairFilter({ ...pair, verdict: [] });
});
