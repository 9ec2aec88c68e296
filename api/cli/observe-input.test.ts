import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { observeInput, parseInputLine, readResponses, openInput, InputFileError } from './observe-input.js';
import { parseObserveArgs } from './observe-flags.js';
import { formatResponses } from '../printer/printer.js';
import { readTestdata, testdataPath } from '../../testing/printer-fixtures.js';
import type { GetFlowsResponse } from '../../proto/index.js';

async function collect(it: AsyncIterable<GetFlowsResponse>): Promise<GetFlowsResponse[]> {
  const out: GetFlowsResponse[] = [];
  for await (const r of it) out.push(r);
  return out;
}

const stream = (text: string): Readable => Readable.from([text]);

async function observe(args: string[], text = readTestdata('reference.jsonl')): Promise<string> {
  const inv = parseObserveArgs([...args, '--input-file', '-'], { nowMs: 0, env: {} });
  const res = await collect(observeInput(stream(text), inv.request));
  return formatResponses(res, { ...inv.output, timeZone: 'UTC' }).stdout;
}

test('--input-file prints the reference flows like hubble (compact, dict, table)', async () => {
  assert.equal(await observe([]), readTestdata('reference.compact.txt'));
  assert.equal(await observe(['-o', 'dict']), readTestdata('reference.dict.txt'));
  assert.equal(await observe(['-o', 'table']), readTestdata('reference.table.txt'));
});

test('reading from a file path', async () => {
  const res = await collect(readResponses(openInput(testdataPath('reference.jsonl'))));
  assert.equal(res.length, 3);
  assert.equal(res[0].flow?.uuid, 'cd75b2ac-8dd3-486b-beca-3d17d9d56cff');
});

test('filters apply to input flows', async () => {
  const lines = readTestdata('reference.compact.txt').split('\n');
  assert.equal(await observe(['--verdict', 'FORWARDED']), `${lines[2]}\n`);
  assert.equal(await observe(['--not', '--verdict', 'FORWARDED']), `${lines[0]}\n${lines[1]}\n`);
  assert.equal(await observe(['--from-ip', '1.1.1.1']), `${lines[1]}\n`);
  assert.equal(await observe(['-n', 'net-lab']), `${lines[0]}\n`);
});

test('--first and --last select in file order', async () => {
  const lines = readTestdata('reference.compact.txt').split('\n');
  assert.equal(await observe(['--first', '1']), `${lines[0]}\n`);
  assert.equal(await observe(['--last', '2']), `${lines[1]}\n${lines[2]}\n`);
  assert.equal(await observe(['--last', '10']), readTestdata('reference.compact.txt'));
});

test('--since/--until compare the response time (missing time counts as 1970)', async () => {
  const lines = readTestdata('reference.compact.txt').split('\n');
  // Only the first line has a response-level time (2026-07-31T10:41:02Z).
  assert.equal(await observe(['--since', '2026-07-31T10:00:00Z']), `${lines[0]}\n`);
  assert.equal(await observe(['--until', '2026-07-31T10:00:00Z']), `${lines[1]}\n${lines[2]}\n`);
});

test('a bare Flow per line is accepted', () => {
  const res = parseInputLine('{"time":"2026-01-02T03:04:05Z","verdict":"FORWARDED","node_name":"n1"}', 1);
  assert.deepEqual(res, {
    flow: { time: { seconds: 1767323045, nanos: 0 }, verdict: 1, node_name: 'n1' },
    node_name: 'n1',
    time: { seconds: 1767323045, nanos: 0 },
  });
});

test('lost events and node status pass without a whitelist only', async () => {
  const text = '{"lost_events":{"source":"PERF_EVENT_RING_BUFFER","num_events_lost":"3"}}\n';
  assert.equal((await collect(observeInput(stream(text), {}))).length, 1);
  assert.equal((await collect(observeInput(stream(text), { blacklist: [{ verdict: [2] }] }))).length, 1);
  assert.equal((await collect(observeInput(stream(text), { whitelist: [{ verdict: [2] }] }))).length, 0);
});

test('bad lines are errors naming the line', async () => {
  const bad = async (text: string, line: number, msg: RegExp) => {
    await assert.rejects(collect(readResponses(stream(text))), (e: unknown) => e instanceof InputFileError && e.line === line && msg.test(e.message));
  };
  await bad('{"flow":{}}\n\nnot json\n', 3, /^input line 3: invalid JSON/);
  await bad('[1,2]\n', 1, /expected a JSON object/);
  await bad('{"flow":{"verdict":"MAYBE"}}\n', 1, /invalid value "MAYBE" for enum flow.Verdict/);
  await bad('{"flow":{"time":"yesterday"}}\n', 1, /invalid timestamp/);
});

test('--last above the input buffer limit is refused', async () => {
  await assert.rejects(collect(observeInput(stream(''), { number: 2_000_000 })), /--last must be <= 1_000_000/);
});
