import { test } from 'node:test';
import assert from 'node:assert/strict';
import { types, encode, decode, enums, enumName, type Flow } from './index.js';
import { toProtoJSON, fromProtoJSON, formatTimestamp } from './json.js';

test('Flow field numbers match Hubble v1.19', () => {
  const f = types.Flow.fields;
  const expect: Record<string, number> = {
    time: 1,
    uuid: 34,
    emitter: 41,
    verdict: 2,
    drop_reason: 3,
    IP: 5,
    l4: 6,
    source: 8,
    destination: 9,
    Type: 10,
    node_name: 11,
    l7: 15,
    event_type: 19,
    traffic_direction: 22,
    trace_observation_point: 24,
    drop_reason_desc: 25,
    is_reply: 26,
    Summary: 100000,
    egress_denied_by: 21004,
  };
  for (const [name, id] of Object.entries(expect)) assert.equal(f[name].id, id, name);
  assert.equal(enumName(enums.TraceObservationPoint, 101), 'TO_ENDPOINT');
  assert.equal(enumName(enums.DropReason, 181), 'POLICY_DENY');
});

test('round trip binary and protojson in Hubble dialect', () => {
  const flow: Flow = {
    time: { seconds: 1785494462, nanos: 202450754 },
    verdict: 2,
    drop_reason: 181,
    IP: { source: '10.0.1.235', destination: '10.0.0.21', ipVersion: 1 },
    l4: { TCP: { source_port: 60524, destination_port: 80, flags: { SYN: true } } },
    source: { identity: 24753, namespace: 'net-lab', labels: ['k8s:app=traffic-generator'] },
    Type: 1,
    event_type: { type: 5 },
    is_reply: { value: false },
    Summary: 'TCP Flags: SYN',
    egress_denied_by: [{ name: 'deny', revision: 6 }],
    socket_cookie: 2 ** 40,
  };
  const back = decode<Flow>(types.Flow, encode(types.Flow, flow));
  assert.deepEqual(back, flow);
  const json = toProtoJSON(types.Flow, flow as Record<string, unknown>);
  assert.equal(
    JSON.stringify(json),
    '{"time":"2026-07-31T10:41:02.202450754Z","verdict":"DROPPED","drop_reason":181,"IP":{"source":"10.0.1.235","destination":"10.0.0.21","ipVersion":"IPv4"},"l4":{"TCP":{"source_port":60524,"destination_port":80,"flags":{"SYN":true}}},"source":{"identity":24753,"namespace":"net-lab","labels":["k8s:app=traffic-generator"]},"Type":"L3_L4","event_type":{"type":5},"is_reply":false,"socket_cookie":"1099511627776","Summary":"TCP Flags: SYN","egress_denied_by":[{"name":"deny","revision":"6"}]}',
  );
  assert.deepEqual(fromProtoJSON(types.Flow, json), flow);
  assert.deepEqual(fromProtoJSON(types.Flow, { isReply: true, nodeName: 'n', dropReasonDesc: 'POLICY_DENIED' }), {
    is_reply: { value: true },
    node_name: 'n',
    drop_reason_desc: 133,
  });
});

test('timestamps use 0/3/6/9 fractional digits', () => {
  assert.equal(formatTimestamp({ seconds: 1234, nanos: 567800000 }), '1970-01-01T00:20:34.567800Z');
  assert.equal(formatTimestamp({ seconds: 0, nanos: 0 }), '1970-01-01T00:00:00Z');
  assert.equal(formatTimestamp({ seconds: 0, nanos: 5000000 }), '1970-01-01T00:00:00.005Z');
  assert.throws(() => fromProtoJSON(types.Flow, { time: 'yesterday' }), /invalid timestamp/);
  assert.throws(() => fromProtoJSON(types.Flow, { verdict: 'MAYBE' }), /enum flow.Verdict/);
});
