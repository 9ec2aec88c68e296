// Hubble's FQDN and node-name glob patterns (patterns.go), compiled to one anchored regexp
// whose text is valid in JS and in ClickHouse's RE2 alike.
import { FilterError } from './errors.js';

/** Matches an FQDN, including underscores (Hubble's fqdnRegexpStr). */
const FQDN_ANY = '(?:[-0-9_a-z]+(?:\\.[-0-9_a-z]+)*)';

function fqdnPatternRegexp(pattern: string): string {
  let p = pattern.trim();
  if (p.endsWith('.')) p = p.slice(0, -1);
  p = p.toLowerCase();
  if (p === '') throw new FilterError('empty pattern');
  if (p.endsWith('.')) throw new FilterError('multiple trailing dots in pattern');
  let out = '';
  for (const r of p) {
    if (r === '.') out += '\\.';
    else if (r === '*') out += '[-.0-9a-z]*';
    else if (r === '-' || r === '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z')) out += r;
    else throw new FilterError(`${JSON.stringify(r)}: invalid rune in pattern`);
  }
  return out;
}

export function compileFQDNPatterns(patterns: readonly string[]): string {
  return `^(?:${patterns.map(fqdnPatternRegexp).join('|')})$`;
}

/** `cluster/node` patterns; either side may be empty (matches any); no slash = any cluster. */
export function compileNodeNamePatterns(patterns: readonly string[]): string {
  const alts = patterns.map((pat) => {
    if (pat === '') throw new FilterError('empty pattern');
    const elems = pat.split('/');
    if (elems.length > 2) throw new FilterError('too many slashes in pattern');
    const [cluster, node] = elems.length === 1 ? ['', elems[0]] : elems;
    return `${cluster === '' ? FQDN_ANY : fqdnPatternRegexp(cluster)}/${node === '' ? FQDN_ANY : fqdnPatternRegexp(node)}`;
  });
  return `^(?:${alts.join('|')})$`;
}
