// Kubernetes label selectors over Cilium labels, as Hubble's label filters use them:
// `k8s:app=foo`, `app in (a,b)`, `!key`, `key`, `key!=v`, `key notin (…)`, `key>3`.
// A key written `source:name` matches labels of that source; a bare key matches any source
// (Hubble rewrites it to `any:name`). Flow labels are parsed like cilium's ParseLabel.
//
// One deliberate simplification: Cilium's Get returns the first label of a key, which is
// order-dependent when several sources carry the same key. Here a value test holds when any
// label of that key passes it, and `!=`/`notin` are exact negations of `=`/`in`.
import { FilterError } from './errors.js';
import type { Params } from './params.js';

export type Op = 'exists' | '!exists' | 'in' | 'notin' | 'gt' | 'lt';
export interface Requirement {
  source: string;
  key: string;
  op: Op;
  values: string[];
}
export type Selector = Requirement[];

const QUALIFIED_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const INTEGER = /^-?[0-9]{1,15}$/;

type Tok = { t: 'id' | 'op'; v: string };

function tokenize(s: string): Tok[] {
  const toks: Tok[] = [];
  for (let i = 0; i < s.length;) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = s.slice(i, i + 2);
    if (two === '==' || two === '!=') {
      toks.push({ t: 'op', v: two });
      i += 2;
      continue;
    }
    if ('!=,()<>'.includes(c)) {
      toks.push({ t: 'op', v: c });
      i++;
      continue;
    }
    let j = i;
    while (j < s.length && !/\s/.test(s[j]) && !'!=,()<>'.includes(s[j])) j++;
    toks.push({ t: 'id', v: s.slice(i, j) });
    i = j;
  }
  return toks;
}

function splitKey(raw: string, selector: string): { source: string; key: string } {
  const colon = raw.indexOf(':');
  const source = colon < 0 ? 'any' : raw.slice(0, colon);
  const key = colon < 0 ? raw : raw.slice(colon + 1);
  // Hubble validates the translated `source.key` as a Kubernetes qualified name.
  if (!QUALIFIED_NAME.test(`${source}.${key}`) || source === '' || key === '') {
    throw new FilterError(`unable to parse requirement: invalid label key ${JSON.stringify(raw)} in ${JSON.stringify(selector)}`);
  }
  return { source, key };
}

function checkValue(v: string, selector: string): string {
  if (v.length > 63 || !LABEL_VALUE.test(v)) {
    throw new FilterError(`unable to parse requirement: invalid label value ${JSON.stringify(v)} in ${JSON.stringify(selector)}`);
  }
  return v;
}

export function parseSelector(selector: string): Selector {
  const toks = tokenize(selector);
  const reqs: Selector = [];
  let i = 0;
  const bad = (why: string): never => {
    throw new FilterError(`invalid label selector ${JSON.stringify(selector)}: ${why}`);
  };
  const peek = () => toks[i];
  while (i < toks.length) {
    let negate = false;
    if (peek().t === 'op' && peek().v === '!') {
      negate = true;
      i++;
    }
    const k = toks[i++];
    if (!k || k.t !== 'id') bad('expected a key');
    const { source, key } = splitKey(k.v, selector);
    const next = peek();
    if (negate) {
      reqs.push({ source, key, op: '!exists', values: [] });
    } else if (!next || (next.t === 'op' && next.v === ',')) {
      reqs.push({ source, key, op: 'exists', values: [] });
    } else if (next.t === 'id' && (next.v === 'in' || next.v === 'notin')) {
      i++;
      if (peek()?.v !== '(') bad(`expected ( after ${next.v}`);
      i++;
      const values: string[] = [];
      for (;;) {
        const t = toks[i++];
        if (!t) bad('missing )');
        if (t.t === 'id') {
          values.push(checkValue(t.v, selector));
          continue;
        }
        if (t.v === ',') continue;
        if (t.v === ')') break;
        bad(`unexpected ${t.v}`);
      }
      if (values.length === 0) bad(`for '${next.v}' the value set must not be empty`);
      reqs.push({ source, key, op: next.v, values });
    } else if (next.t === 'op' && ['=', '==', '!='].includes(next.v)) {
      i++;
      const v = peek();
      let value = '';
      if (v && v.t === 'id') {
        value = v.v;
        i++;
      }
      reqs.push({ source, key, op: next.v === '!=' ? 'notin' : 'in', values: [checkValue(value, selector)] });
    } else if (next.t === 'op' && (next.v === '<' || next.v === '>')) {
      i++;
      const v = toks[i++];
      if (!v || v.t !== 'id' || !INTEGER.test(v.v)) bad(`for '${next.v}' the value must be an integer`);
      reqs.push({ source, key, op: next.v === '>' ? 'gt' : 'lt', values: [v.v] });
    } else {
      bad(`unexpected ${next.v}`);
    }
    if (i < toks.length) {
      if (peek().v !== ',') bad(`expected , got ${peek().v}`);
      i++;
      if (i >= toks.length) bad('trailing ,');
    }
  }
  return reqs;
}

/** cilium ParseLabel: `source:key=value`; no source means `unspec`, `$…` is unspec as a whole. */
export function parseLabel(l: string): { source: string; key: string; value: string } {
  let source = 'unspec',
    next = l;
  if (l !== '' && l[0] !== '$') {
    const c = l.indexOf(':');
    if (c >= 0) {
      if (c > 0) source = l.slice(0, c);
      next = l.slice(c + 1);
    }
  }
  const eq = next.indexOf('=');
  if (eq < 0) return { source, key: next, value: '' };
  if (eq === 0 && source === 'reserved') return { source, key: next.slice(1), value: '' };
  return { source, key: next.slice(0, eq), value: next.slice(eq + 1) };
}

type Parsed = { source: string; key: string; value: string };

function reqMatches(r: Requirement, labels: Parsed[]): boolean {
  const same = labels.filter((l) => l.key === r.key && (r.source === 'any' || l.source === r.source));
  switch (r.op) {
    case 'exists':
      return same.length > 0;
    case '!exists':
      return same.length === 0;
    case 'in':
      return same.some((l) => r.values.includes(l.value));
    case 'notin':
      return !same.some((l) => r.values.includes(l.value));
    case 'gt':
      return same.some((l) => INTEGER.test(l.value) && Number(l.value) > Number(r.values[0]));
    case 'lt':
      return same.some((l) => INTEGER.test(l.value) && Number(l.value) < Number(r.values[0]));
  }
}

export function selectorMatches(sel: Selector, labels: readonly string[] | undefined): boolean {
  const parsed = (labels ?? []).map(parseLabel);
  return sel.every((r) => reqMatches(r, parsed));
}

// The same parse in SQL, over lambda variable `l`; yields tuple(source, key, value).
const SRC = `if(l = '' OR startsWith(l, '$') OR position(l, ':') <= 1, 'unspec', substring(l, 1, position(l, ':') - 1))`;
const NEXT = `if(l = '' OR startsWith(l, '$') OR position(l, ':') = 0, l, substring(l, position(l, ':') + 1))`;
const PARSED = `arrayMap(l -> tuple(${SRC}, ${NEXT}), %COL%)`;
// x.1 source, x.2 rest after the source; key/value split at the first '='.
const KEY = `multiIf(position(x.2, '=') = 0, x.2, position(x.2, '=') = 1 AND x.1 = 'reserved', substring(x.2, 2), substring(x.2, 1, position(x.2, '=') - 1))`;
const VALUE = `multiIf(position(x.2, '=') = 0, '', position(x.2, '=') = 1 AND x.1 = 'reserved', '', substring(x.2, position(x.2, '=') + 1))`;

/** Number comparisons in SQL use the same integer shape the predicate accepts. */
export function selectorSQL(sel: Selector, col: string, p: Params): string {
  if (sel.length === 0) return '1';
  const arr = PARSED.replace('%COL%', col);
  return (
    '(' +
    sel
      .map((r) => {
        const same = `${KEY} = ${p.str(r.key)}${r.source === 'any' ? '' : ` AND x.1 = ${p.str(r.source)}`}`;
        const exists = (extra: string) => `arrayExists(x -> (${same}${extra}), ${arr})`;
        const inSet = ` AND ${VALUE} IN (${r.values.map((v) => p.str(v)).join(', ')})`;
        const num = (op: string) => ` AND match(${VALUE}, '^-?[0-9]{1,15}$') AND toInt64OrZero(${VALUE}) ${op} ${p.add('Int64', r.values[0])}`;
        switch (r.op) {
          case 'exists':
            return exists('');
          case '!exists':
            return `NOT ${exists('')}`;
          case 'in':
            return exists(inSet);
          case 'notin':
            return `NOT ${exists(inSet)}`;
          case 'gt':
            return exists(num('>'));
          case 'lt':
            return exists(num('<'));
        }
      })
      .join(' AND ') +
    ')'
  );
}
