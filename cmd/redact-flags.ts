// The collector's redaction flags (Hubble's --hubble-redact-* without the prefix), shared by
// `flowscope collector` and `flowscope manifests`, which passes them on through the collector's
// ConfigMap as the same environment variables.
import { Option } from 'commander';
import { UsageError } from '../api/query/usage-error.js';
import { validateRedaction, type RedactionOptions } from '../collector/enrich/redact.js';

export interface RedactFlags {
  redactEnabled?: boolean;
  redactHttpUrlquery?: boolean;
  redactHttpUserinfo?: boolean;
  redactKafkaApikey?: boolean;
  redactHttpHeadersAllow: string[];
  redactHttpHeadersDeny: string[];
  redactDnsQuery: string[];
}

/** Option, its environment variable, and how a value is written there. */
const ENV = {
  redactEnabled: 'FLOWSCOPE_REDACT_ENABLED',
  redactHttpUrlquery: 'FLOWSCOPE_REDACT_HTTP_URLQUERY',
  redactHttpUserinfo: 'FLOWSCOPE_REDACT_HTTP_USERINFO',
  redactKafkaApikey: 'FLOWSCOPE_REDACT_KAFKA_APIKEY',
  redactHttpHeadersAllow: 'FLOWSCOPE_REDACT_HTTP_HEADERS_ALLOW',
  redactHttpHeadersDeny: 'FLOWSCOPE_REDACT_HTTP_HEADERS_DENY',
  redactDnsQuery: 'FLOWSCOPE_REDACT_DNS_QUERY',
} as const;

/** Repeatable; each value may also list several, split by `sep` (how the environment gives them). */
function list(sep: RegExp): (v: string, prev: string[]) => string[] {
  return (v, prev) => [...prev, ...v.split(sep).filter((s) => s !== '')];
}

/** The flags; `env` false for commands that only pass them on (manifests). */
export function redactOptions(env = true): Option[] {
  const o = (flags: string, description: string, key: keyof typeof ENV): Option => {
    const opt = new Option(flags, description);
    return env ? opt.env(ENV[key]) : opt;
  };
  return [
    o(
      '--redact-enabled',
      'Redact sensitive L7 values before flows leave the node (the other --redact-* flags need it); alone it redacts every HTTP header value',
      'redactEnabled',
    ),
    o('--redact-http-urlquery', 'Remove the query and fragment of HTTP URLs', 'redactHttpUrlquery'),
    o('--redact-http-userinfo', 'Replace the password in HTTP URLs (user:HUBBLE_REDACTED@host)', 'redactHttpUserinfo'),
    o('--redact-kafka-apikey', 'Replace the Kafka API key', 'redactKafkaApikey'),
    o('--redact-http-headers-allow <names>', 'HTTP headers whose values are kept, all others redacted (comma-separated, repeatable)', 'redactHttpHeadersAllow')
      .argParser(list(/,/))
      .default([]),
    o('--redact-http-headers-deny <names>', 'HTTP headers whose values are redacted, all others kept (comma-separated, repeatable)', 'redactHttpHeadersDeny')
      .argParser(list(/,/))
      .default([]),
    o(
      '--redact-dns-query <patterns>',
      'DNS names to redact in queries, CNAMEs and endpoint names: FQDN globs (*.corp.example.com) or /RE2 regexps/ (space-separated, repeatable)',
      'redactDnsQuery',
    )
      .argParser(list(/\s+/))
      .default([]),
  ];
}

/** The redaction the flags ask for, null when it is off; UsageError on a bad combination. */
export function redactionFromFlags(f: RedactFlags): RedactionOptions | null {
  const r: RedactionOptions = {
    httpUrlQuery: !!f.redactHttpUrlquery,
    httpUserInfo: !!f.redactHttpUserinfo,
    kafkaApiKey: !!f.redactKafkaApikey,
    httpHeadersAllow: f.redactHttpHeadersAllow,
    httpHeadersDeny: f.redactHttpHeadersDeny,
    dnsQuery: f.redactDnsQuery,
  };
  if (!f.redactEnabled) {
    // As in Hubble, nothing is redacted without the switch: say so rather than ignore the flags.
    const given = Object.entries(r).filter(([, v]) => v === true || (Array.isArray(v) && v.length > 0));
    if (given.length > 0) throw new UsageError('--redact-* flags need --redact-enabled');
    return null;
  }
  try {
    validateRedaction(r);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return r;
}

/** The collector's environment for `r` (null: redaction off), as a ConfigMap's data. */
export function redactionEnv(r: RedactionOptions | null): Record<string, string> {
  if (r === null) return {};
  const env: Record<string, string> = { [ENV.redactEnabled]: 'true' };
  if (r.httpUrlQuery) env[ENV.redactHttpUrlquery] = 'true';
  if (r.httpUserInfo) env[ENV.redactHttpUserinfo] = 'true';
  if (r.kafkaApiKey) env[ENV.redactKafkaApikey] = 'true';
  if (r.httpHeadersAllow.length > 0) env[ENV.redactHttpHeadersAllow] = r.httpHeadersAllow.join(',');
  if (r.httpHeadersDeny.length > 0) env[ENV.redactHttpHeadersDeny] = r.httpHeadersDeny.join(',');
  if (r.dnsQuery.length > 0) env[ENV.redactDnsQuery] = r.dnsQuery.join(' ');
  return env;
}
