import { test } from 'node:test';
import assert from 'node:assert/strict';
import { types, encode, decode, type Flow } from './index.js';
import { toProtoJSON, fromProtoJSON } from './json.js';
import { kernelInfoOf, packKernelInfo, KERNEL_FLOW_INFO_TYPE_URL } from './kernel.js';

test('KernelFlowInfo rides in Flow.extensions through binary and protojson like Go renders an Any', () => {
  const flow: Flow = {
    verdict: 2,
    node_name: 'n1',
    extensions: packKernelInfo({ drop_reason_name: 'NO_SOCKET', drop_reason_code: 3, bytes: 60, packets: 1, event: 'drop', netns: 4026531840 }),
  };
  const back = decode<Flow>(types.Flow, encode(types.Flow, flow));
  assert.equal(back.extensions?.type_url, KERNEL_FLOW_INFO_TYPE_URL);
  assert.deepEqual(kernelInfoOf(back), { drop_reason_name: 'NO_SOCKET', drop_reason_code: 3, bytes: 60, packets: 1, event: 'drop', netns: 4026531840 });
  const json = toProtoJSON(types.Flow, back as Record<string, unknown>);
  assert.equal(
    JSON.stringify(json),
    '{"verdict":"DROPPED","node_name":"n1","extensions":{"@type":"type.googleapis.com/flowscope.kernel.v1.KernelFlowInfo","drop_reason_name":"NO_SOCKET","drop_reason_code":3,"bytes":"60","packets":"1","event":"drop","netns":4026531840}}',
  );
  const parsed = fromProtoJSON(types.Flow, json) as Flow;
  assert.deepEqual(kernelInfoOf(parsed), kernelInfoOf(back));
});

test('kernelInfoOf ignores flows without the extension or with another type', () => {
  assert.equal(kernelInfoOf({}), null);
  assert.equal(kernelInfoOf({ extensions: { type_url: 'type.googleapis.com/flow.Flow', value: new Uint8Array(0) } }), null);
  assert.equal(kernelInfoOf({ extensions: { type_url: KERNEL_FLOW_INFO_TYPE_URL, value: Uint8Array.of(0x0a, 0x50) } }), null);
});

test('an Any of an unknown type is rejected in protojson, as Go does', () => {
  assert.throws(() => fromProtoJSON(types.Flow, { extensions: { '@type': 'type.googleapis.com/x.Nope' } }), /unable to resolve/);
  assert.throws(() => fromProtoJSON(types.Flow, { extensions: { drop_reason_name: 'x' } }), /missing "@type"/);
});
