// The path Hubble's http_path filter matches: Go's url.ParseRequestURI(url).Path, i.e. the
// percent-decoded path of a request URI, or no match at all when the URL does not parse.
// Storage computes the same value at ingest (column http_path), so predicate and SQL agree.

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;

function unescapePath(s: string): string | undefined {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 0x25) {
      bytes.push(raw[i]);
      continue;
    }
    const hex = raw.subarray(i + 1, i + 3).toString('latin1');
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The decoded path, or undefined where Go's ParseRequestURI returns an error. */
export function requestURIPath(url: string): string | undefined {
  if (url === '' || /[\x00-\x1f\x7f]/.test(url)) return undefined;
  if (url === '*') return '*';
  let rest = url;
  let scheme = '';
  const colon = url.indexOf(':');
  if (colon === 0) return undefined;
  if (colon > 0 && SCHEME.test(url.slice(0, colon))) {
    scheme = url.slice(0, colon);
    rest = url.slice(colon + 1);
  }
  const q = rest.indexOf('?');
  if (q >= 0) rest = rest.slice(0, q);
  if (!rest.startsWith('/')) return scheme !== '' ? '' : undefined; // opaque URL: empty Path
  if (scheme !== '' && rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    const authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    if (/[\s<>"{}|\\^`]/.test(authority)) return undefined;
    rest = slash < 0 ? '' : rest.slice(slash);
  }
  return unescapePath(rest);
}
