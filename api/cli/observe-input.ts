// `observe --input-file`: reads Hubble exporter / `-o jsonpb` lines (one GetFlowsResponse
// JSON per line; a bare Flow object per line is accepted too) and serves them like a server
// would: --since/--until against the response time, the whitelist/blacklist, then --first N
// or --last N (in file order, not sorted by time — as hubble does).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { types } from '../../proto/index.js';
import type { Flow, GetFlowsRequest, GetFlowsResponse, Timestamp } from '../../proto/index.js';
import { fromProtoJSON, ProtoJSONError } from '../../proto/json.js';
import { compileFlowFilters } from '../../filters/index.js';

/** A line of the input that is not a flow response; the CLI reports it and exits 2. */
export class InputFileError extends Error {
  override readonly name = 'InputFileError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`input line ${line}: ${message}`);
  }
}

const RESPONSE_KEYS = new Set(['flow', 'node_status', 'nodeStatus', 'lost_events', 'lostEvents']);
/** hubble's --last buffer limit for input files. */
export const MAX_LAST = 1_000_000;
const NUMBER_ALL = Number.MAX_SAFE_INTEGER;

/** Parses one input line (1-based lineNo for errors) into a GetFlowsResponse. */
export function parseInputLine(text: string, lineNo: number): GetFlowsResponse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputFileError(lineNo, `invalid JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InputFileError(lineNo, 'expected a JSON object');
  try {
    if (Object.keys(json).some((k) => RESPONSE_KEYS.has(k))) return fromProtoJSON(types.GetFlowsResponse, json) as GetFlowsResponse;
    // A bare Flow: wrap it the way a server would.
    const flow = fromProtoJSON(types.Flow, json) as Flow;
    const res: GetFlowsResponse = { flow };
    if (flow.node_name) res.node_name = flow.node_name;
    if (flow.time) res.time = flow.time;
    return res;
  } catch (e) {
    if (e instanceof ProtoJSONError) throw new InputFileError(lineNo, e.message);
    throw e;
  }
}

/** Responses of a jsonpb stream, in order; blank lines are skipped. */
export async function* readResponses(input: Readable | AsyncIterable<string>): AsyncGenerator<GetFlowsResponse> {
  const lines = 'pipe' in input ? createInterface({ input: input as Readable, crlfDelay: Infinity }) : input;
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    yield parseInputLine(line, lineNo);
  }
}

/** Opens --input-file ("-" is stdin). */
export function openInput(path: string, stdin: Readable = process.stdin): Readable {
  return path === '-' ? stdin : createReadStream(path, { encoding: 'utf8' });
}

function seconds(ts: Timestamp | undefined): number {
  // A missing time compares as the Unix epoch, as Go's AsTime() of nil does.
  return ts ? ts.seconds + (ts.nanos ?? 0) / 1e9 : 0;
}

export interface InputOptions {
  /** Overrides the whitelist/blacklist predicate (default: filters/index.ts compileFlowFilters). */
  match?: (flow: Flow) => boolean;
}

/** Applies a GetFlowsRequest to the responses read from input, like hubble's IOReaderObserver. */
export async function* observeInput(
  input: Readable | AsyncIterable<string>,
  request: GetFlowsRequest,
  opts: InputOptions = {},
): AsyncGenerator<GetFlowsResponse> {
  const number = request.number ?? 0;
  const first = (request.first ?? false) && number !== 0 && number < NUMBER_ALL;
  const last = !(request.first ?? false) && number !== 0 && number < NUMBER_ALL;
  if (last && number > MAX_LAST) throw new RangeError(`--last must be <= 1_000_000, got ${number}`);
  const match = opts.match ?? compileFlowFilters(request.whitelist ?? [], request.blacklist ?? []);
  const hasWhitelist = (request.whitelist ?? []).length > 0;
  const since = request.since ? seconds(request.since) : undefined;
  const until = request.until ? seconds(request.until) : undefined;

  const buffer: GetFlowsResponse[] = [];
  let returned = 0;
  for await (const res of readResponses(input)) {
    const t = seconds(res.time);
    if (since !== undefined && since > t) continue;
    if (until !== undefined && until < t) continue;
    // Events without a flow cannot match a whitelist filter.
    if (res.flow ? !match(res.flow) : hasWhitelist) continue;
    if (last) {
      buffer.push(res);
      // Trim in batches so keeping the last N stays linear.
      if (buffer.length >= 2 * number) buffer.splice(0, buffer.length - number);
    } else {
      yield res;
      returned++;
      if (first && returned >= number) return;
    }
  }
  yield* buffer.slice(-number);
}
