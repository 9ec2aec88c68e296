// Go regexps (RE2) evaluated twice: by JS RegExp in the predicate and by ClickHouse's
// match() (also RE2) in SQL. Only the syntax whose meaning is identical in both engines is
// accepted; the few constructs that differ are translated for JS (`.` and `\s`), everything
// else that either engine reads differently is rejected with a clear error.
import { FilterError } from './errors.js';

const SAFE_ESCAPES = new Set([...'.*+?()[]{}|^$\\/-dDwWbBtnrf']);

export interface GoRegexp {
  js: RegExp;
  source: string;
}

export function compileGoRegexp(pattern: string, what: string): GoRegexp {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n === undefined) throw new FilterError(`${what}: invalid regexp ${JSON.stringify(pattern)}: trailing backslash`);
      if (n === 's' || n === 'S') {
        // RE2 \s is [\t\n\f\r ]; JS adds \v and Unicode spaces.
        const set = '\\t\\n\\f\\r ';
        out += inClass ? (n === 's' ? set : fail(pattern, what, '\\S inside a class')) : n === 's' ? `[${set}]` : `[^${set}]`;
        i++;
        continue;
      }
      if (!SAFE_ESCAPES.has(n)) fail(pattern, what, `escape \\${n}`);
      out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === '[' && pattern[i + 1] === ':') fail(pattern, what, 'POSIX class');
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (pattern[i + 1] === '^') {
        out += '^';
        i++;
      }
      // A leading ']' is a literal in RE2 and an empty class in JS.
      if (pattern[i + 1] === ']') fail(pattern, what, 'leading ] in a class');
      continue;
    }
    if (c === '(' && pattern[i + 1] === '?') {
      if (pattern[i + 2] !== ':') fail(pattern, what, 'group flags or named groups');
    }
    // RE2 `.` excludes only \n; JS also excludes \r, U+2028 and U+2029.
    out += c === '.' ? '[^\\n]' : c;
  }
  if (inClass) fail(pattern, what, 'missing ]');
  let js: RegExp;
  try {
    js = new RegExp(out);
  } catch (e) {
    throw new FilterError(`${what}: invalid regexp ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
  return { js, source: pattern };
}

function fail(pattern: string, what: string, construct: string): never {
  throw new FilterError(`${what}: unsupported regexp syntax in ${JSON.stringify(pattern)}: ${construct}`);
}
