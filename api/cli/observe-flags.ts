// `flowscope observe` command line, with `hubble observe`'s flag names and semantics: the
// filter flags build the GetFlowsRequest whitelist/blacklist exactly as hubble does, and the
// formatting flags configure the printer.
import { Command, CommanderError, Option } from 'commander';
import { types } from '../../proto/index.js';
import type { FlowFilter, GetFlowsRequest } from '../../proto/index.js';
import { fromProtoJSON, toProtoJSON, ProtoJSONError } from '../../proto/json.js';
import type { OutputFormat } from '../printer/printer.js';
import { checkTimeZone, timeFormatLayout } from '../printer/time-format.js';
import { BOOLEAN_FILTERS, FILTER_FLAGS, FILTER_HELP } from '../query/filter-flags.js';
import { SELECTOR_HELP, selectFlows } from '../query/flows-selection.js';
import type { FilterFlag } from '../query/filter-flags.js';
import { UsageError } from '../query/usage-error.js';
import { parseGoDuration } from '../query/time-args.js';
import { clientConnectionOptions, type ClientTlsFlags } from './tls-options.js';

export { UsageError } from '../query/usage-error.js';
export type { FilterFlag } from '../query/filter-flags.js';

export const DEFAULT_SERVER = 'localhost:4245';
export { DEFAULT_LAST, NUMBER_ALL } from '../query/flows-selection.js';

/**
 * The fields requested for compact/dict/table output: hubble's defaults.FieldMask plus the fields
 * its own printer reads but that list omits (with hubble's list a policy verdict prints as
 * "policy-verdict:none TRAFFIC_DIRECTION_UNKNOWN", DNS names and policy names go missing).
 */
export const DEFAULT_FIELD_MASK = [
  'time',
  'verdict',
  'ethernet',
  'IP',
  'l4',
  'source.identity',
  'source.namespace',
  'source.pod_name',
  'destination.identity',
  'destination.namespace',
  'destination.pod_name',
  'Type',
  'node_name',
  'l7',
  'event_type',
  'source_service',
  'destination_service',
  'is_reply',
  'Summary',
  'ip_trace_id',
  'traffic_direction',
  'policy_match_type',
  'auth_type',
  'sock_xlate_point',
  'debug_capture_point',
  'source_names',
  'destination_names',
  'egress_allowed_by',
  'ingress_allowed_by',
  'egress_denied_by',
  'ingress_denied_by',
];

/** Options as the command line gives them (strings unparsed); `filters` keeps flag order. */
export interface ObserveOptions extends ClientTlsFlags {
  filters?: FilterFlag[];
  last?: string;
  first?: string;
  all?: boolean;
  follow?: boolean;
  since?: string;
  until?: string;
  output?: string;
  timeFormat?: string;
  timeZone?: string;
  printNodeName?: boolean;
  printPolicyNames?: boolean;
  ipTranslation?: boolean;
  numeric?: boolean;
  color?: string;
  fieldMask?: string[];
  useDefaultFieldMasks?: boolean;
  allowlist?: string[];
  denylist?: string[];
  inputFile?: string;
  server?: string;
  timeout?: string;
  requestTimeout?: string;
  printRawFilters?: boolean;
  silentErrors?: boolean;
  debug?: boolean;
}

/** Things outside the flags that the result depends on; injectable for tests. */
export interface ObserveContext {
  nowMs?: number;
  /** HUBBLE_COMPAT=legacy-json-output: `-o json` prints the bare Flow. */
  legacyJSON?: boolean;
  /** Whether stdout is a terminal (for --color auto). */
  isTTY?: boolean;
  env?: Record<string, string | undefined>;
}

/** Printer settings; spreads directly into createPrinter's options. */
export interface ObserveOutput {
  output: OutputFormat;
  timeLayout: string;
  timeZone?: string;
  color: boolean;
  nodeName: boolean;
  policyNames: boolean;
  ipTranslation: boolean;
  debug: boolean;
}

export interface ObserveInvocation {
  request: GetFlowsRequest;
  output: ObserveOutput;
  server: string;
  inputFile?: string;
  /** Connection settings, in milliseconds where they are durations. */
  connection: {
    dialTimeoutMs: number;
    requestTimeoutMs: number;
    tls: boolean;
    tlsAllowInsecure: boolean;
    tlsServerName?: string;
    tlsCaCertFiles: string[];
    tlsClientCertFile?: string;
    tlsClientKeyFile?: string;
    tokenFile?: string;
  };
  printRawFilters: boolean;
  silentErrors: boolean;
}

function normaliseOutput(name: string, legacyJSON: boolean): OutputFormat {
  switch (name) {
    case 'compact':
      return 'compact';
    case 'dict':
      return 'dict';
    case 'json':
    case 'JSON':
      return legacyJSON ? 'json' : 'jsonpb';
    case 'jsonpb':
      return 'jsonpb';
    case 'tab':
    case 'table':
      return 'table';
  }
  throw new UsageError(`invalid output format: ${name}`);
}

function isFieldPath(path: string): boolean {
  let type = types.Flow;
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i++) {
    const field = type.fields[parts[i]];
    if (!field) return false;
    if (i < parts.length - 1) {
      field.resolve();
      if (!field.resolvedType || !('fields' in field.resolvedType) || field.repeated) return false;
      type = field.resolvedType as typeof type;
    }
  }
  return true;
}

function parseRawFilters(flag: string, values: string[] | undefined): FlowFilter[] {
  const out: FlowFilter[] = [];
  for (const v of values ?? []) {
    try {
      out.push(fromProtoJSON(types.FlowFilter, JSON.parse(v)) as FlowFilter);
    } catch (e) {
      if (e instanceof SyntaxError || e instanceof ProtoJSONError) throw new UsageError(`invalid --${flag} flag: failed to decode '${v}': ${e.message}`);
      throw e;
    }
  }
  return out;
}

/** The GetFlowsRequest `hubble observe` would send for these options. */
export function buildRequest(opts: ObserveOptions, ctx: ObserveContext = {}): GetFlowsRequest {
  return resolveObserve(opts, ctx).request;
}

/** Validates options and resolves everything observe needs; throws UsageError on bad input. */
export function resolveObserve(opts: ObserveOptions, ctx: ObserveContext = {}): ObserveInvocation {
  const env = ctx.env ?? process.env;
  const selection = selectFlows(opts, { nowMs: ctx.nowMs, defaultLast: !opts.inputFile });

  const follow = opts.follow ?? false;
  const format = normaliseOutput(opts.output ?? 'compact', ctx.legacyJSON ?? (env.HUBBLE_COMPAT ?? '').toLowerCase().split(',').includes('legacy-json-output'));
  if (format === 'table' && follow) throw new UsageError('table output format is not compatible with follow mode');
  let fieldMask = opts.fieldMask ?? [];
  if (format !== 'json' && format !== 'jsonpb') {
    if (fieldMask.length > 0) throw new UsageError(`${opts.output} output format is not compatible with custom field mask`);
    if (opts.useDefaultFieldMasks ?? true) fieldMask = DEFAULT_FIELD_MASK;
  }

  // --allowlist/--denylist (raw FlowFilters) come after the filters the flags built.
  const request: GetFlowsRequest = selection;
  const bl = [...(selection.blacklist ?? []), ...parseRawFilters('denylist', opts.denylist)];
  const wl = [...(selection.whitelist ?? []), ...parseRawFilters('allowlist', opts.allowlist)];
  if (bl.length > 0) request.blacklist = bl;
  if (wl.length > 0) request.whitelist = wl;
  if (fieldMask.length > 0) {
    const bad = fieldMask.find((p) => !isFieldPath(p));
    if (bad !== undefined) throw new UsageError(`failed to construct field mask: proto: invalid path ${JSON.stringify(bad)} for message "flow.Flow"`);
    request.field_mask = { paths: [...fieldMask] };
  }

  const timeZone = opts.timeZone;
  if (timeZone !== undefined) {
    try {
      checkTimeZone(timeZone);
    } catch {
      throw new UsageError(`invalid time zone: ${timeZone}`);
    }
  }
  const colorMode = (opts.color ?? 'auto').toLowerCase();
  const color = colorMode === 'always' || (colorMode !== 'never' && (ctx.isTTY ?? false) && env.NO_COLOR === undefined && env.TERM !== 'dumb');

  const duration = (flag: string, v: string | undefined, def: number): number => {
    if (v === undefined) return def;
    const ns = parseGoDuration(v);
    if (ns === undefined) throw new UsageError(`invalid argument ${JSON.stringify(v)} for "--${flag}" flag: time: invalid duration ${JSON.stringify(v)}`);
    return Number(ns / 1_000_000n);
  };

  return {
    request,
    output: {
      output: format,
      timeLayout: timeFormatLayout(opts.timeFormat ?? 'StampMilli'),
      ...(timeZone !== undefined ? { timeZone } : {}),
      color,
      nodeName: opts.printNodeName ?? false,
      policyNames: opts.printPolicyNames ?? false,
      ipTranslation: (opts.ipTranslation ?? true) && !(opts.numeric ?? false),
      debug: opts.debug ?? false,
    },
    server: opts.server ?? env.HUBBLE_SERVER ?? DEFAULT_SERVER,
    ...(opts.inputFile ? { inputFile: opts.inputFile } : {}),
    connection: {
      dialTimeoutMs: duration('timeout', opts.timeout, 5000),
      requestTimeoutMs: duration('request-timeout', opts.requestTimeout, 12000),
      tls: opts.tls ?? false,
      tlsAllowInsecure: opts.tlsAllowInsecure ?? false,
      ...(opts.tlsServerName ? { tlsServerName: opts.tlsServerName } : {}),
      tlsCaCertFiles: opts.tlsCaCertFiles ?? [],
      ...(opts.tlsClientCertFile ? { tlsClientCertFile: opts.tlsClientCertFile } : {}),
      ...(opts.tlsClientKeyFile ? { tlsClientKeyFile: opts.tlsClientKeyFile } : {}),
      ...(opts.tokenFile !== undefined ? { tokenFile: opts.tokenFile } : {}),
    },
    printRawFilters: opts.printRawFilters ?? false,
    silentErrors: opts.silentErrors ?? false,
  };
}

// YAML single-quoted scalar, as yaml.v3 writes a JSON text.
function yamlQuote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** --print-raw-filters: the filters as the allowlist/denylist YAML hubble prints. */
export function rawFiltersYAML(request: GetFlowsRequest): string {
  const section = (name: string, filters: FlowFilter[] | undefined): string => {
    if (!filters || filters.length === 0) return '';
    const items = filters.map((f) => `    - ${yamlQuote(JSON.stringify(toProtoJSON(types.FlowFilter, f as Record<string, unknown>)))}\n`);
    return `${name}:\n${items.join('')}`;
  };
  const text = section('allowlist', request.whitelist) + section('denylist', request.blacklist);
  return text === '' ? '{}\n' : text;
}

// Filter flags with a short form.
const SHORT: Record<string, string> = { type: 't', namespace: 'n', label: 'l', 'all-namespaces': 'A', ipv4: '4', ipv6: '6' };

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];
const collectCSV = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), ...v.split(',').filter((s) => s !== '')];

/**
 * The commander Command for `observe`. `action` receives the resolved invocation. Usage
 * mistakes (unknown flags, bad values) throw UsageError from parse/parseAsync.
 */
export function buildObserveCommand(action: (inv: ObserveInvocation) => void | Promise<void>, ctx: ObserveContext = {}): Command {
  const filters: FilterFlag[] = [];
  const cmd = new Command('observe')
    .description('Observe flows of a flowscope (Hubble-compatible) server')
    .allowExcessArguments(false)
    .exitOverride((err: CommanderError) => {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') throw err;
      throw new UsageError(err.message.replace(/^error: /, ''));
    })
    .configureOutput({ outputError: () => {} });

  // Selectors
  cmd
    .option('--all', SELECTOR_HELP.all)
    .option('--last <N>', SELECTOR_HELP.last)
    .option('--first <N>', SELECTOR_HELP.first)
    .option('-f, --follow', SELECTOR_HELP.follow)
    .option('--since <time>', SELECTOR_HELP.since)
    .option('--until <time>', SELECTOR_HELP.until);

  // Filters: every occurrence is recorded in order, so --not can apply to the next one.
  for (const name of FILTER_FLAGS) {
    const short = SHORT[name] ? `-${SHORT[name]}, ` : '';
    const flags = BOOLEAN_FILTERS.has(name) ? `${short}--${name}` : `${short}--${name} <value>`;
    cmd.addOption(new Option(flags, FILTER_HELP[name]));
    cmd.on(`option:${name}`, (value: string | boolean | undefined) => {
      filters.push(typeof value === 'string' ? { flag: name, value } : { flag: name });
    });
  }
  cmd
    .option('--allowlist <json>', 'Specify allowlist as JSON encoded FlowFilters', collect)
    .option('--denylist <json>', 'Specify denylist as JSON encoded FlowFilters', collect);

  // Formatting
  cmd
    .option('-o, --output <format>', 'Output format: compact, dict, json, jsonpb, table', 'compact')
    .option(
      '--time-format <name>',
      'Time format: StampMilli, YearMonthDay, YearMonthDayHour, YearMonthDayHourMinute, RFC3339, RFC3339Milli, RFC3339Micro, RFC3339Nano, RFC1123Z',
      'StampMilli',
    )
    .option('--time-zone <zone>', 'Time zone for printed times (IANA name, UTC or Local; default: TZ / local)')
    .option('--print-node-name', 'Print node name in output')
    .option('--print-policy-names', 'Print policy names in output')
    .option('--numeric', 'Display all information in numeric form')
    .option('--no-ip-translation', 'Do not translate IP addresses to pod, service or DNS names')
    .option('--color <when>', "Colorize compact and dict output: 'auto', 'always' or 'never'", 'auto')
    .option('--field-mask <fields>', 'Comma-separated list of fields to request', collectCSV)
    .option('--no-use-default-field-masks', 'Do not restrict the requested fields for compact, dict and table output');

  // Server and other
  cmd
    .option('--server <address>', `Address of the server (default ${DEFAULT_SERVER}, or HUBBLE_SERVER)`)
    .option('--timeout <duration>', 'Dial timeout', '5s')
    .option('--request-timeout <duration>', 'Unary request timeout', '12s');
  for (const o of clientConnectionOptions()) cmd.addOption(o);
  cmd
    .option('--input-file <path>', "Query flows from this file instead of the server; '-' reads stdin")
    .option('--print-raw-filters', 'Print allowlist/denylist filters and exit')
    .option('-s, --silent-errors', 'Silently ignore errors and warnings')
    .option('-D, --debug', 'Enable debug messages');

  // Synchronous resolution, so usage errors are thrown from parse() itself.
  cmd.action(() => {
    const o = cmd.opts();
    const inv = resolveObserve(
      {
        filters: [...filters],
        last: o.last,
        first: o.first,
        all: o.all,
        follow: o.follow,
        since: o.since,
        until: o.until,
        output: o.output,
        timeFormat: o.timeFormat,
        timeZone: o.timeZone,
        printNodeName: o.printNodeName,
        printPolicyNames: o.printPolicyNames,
        numeric: o.numeric,
        ipTranslation: o.ipTranslation,
        color: o.color,
        fieldMask: o.fieldMask,
        useDefaultFieldMasks: o.useDefaultFieldMasks,
        allowlist: o.allowlist,
        denylist: o.denylist,
        inputFile: o.inputFile,
        server: o.server,
        timeout: o.timeout,
        requestTimeout: o.requestTimeout,
        tls: o.tls,
        tlsAllowInsecure: o.tlsAllowInsecure,
        tlsServerName: o.tlsServerName,
        tlsCaCertFiles: o.tlsCaCertFiles,
        tlsClientCertFile: o.tlsClientCertFile,
        tlsClientKeyFile: o.tlsClientKeyFile,
        tokenFile: o.tokenFile,
        printRawFilters: o.printRawFilters,
        silentErrors: o.silentErrors,
        debug: o.debug,
      },
      ctx,
    );
    return action(inv);
  });
  return cmd;
}

/** Parses `observe` arguments (without the command name) into an invocation. */
export function parseObserveArgs(args: string[], ctx: ObserveContext = {}): ObserveInvocation {
  let result: ObserveInvocation | undefined;
  const cmd = buildObserveCommand((inv) => {
    result = inv;
  }, ctx);
  cmd.parse(args, { from: 'user' });
  if (!result) throw new UsageError('observe: no invocation parsed');
  return result;
}
