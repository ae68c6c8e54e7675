/**
 * One spelling per path. The gateway decides which route a request takes and the server
 * behind it decides which handler runs; if the two read a path differently (one sees
 * `/%70rivileged/mcp`, the other decodes it to `/privileged/mcp`), a request can take the
 * open route to the gated handler. So the gateway rewrites the target into its one canonical
 * form, decides on that form and forwards exactly that form; whatever it cannot rewrite
 * safely it refuses.
 */

export class UnsafePathError extends Error {}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
/** What RFC 3986 allows in a path segment besides percent-escapes: unreserved, sub-delims, ':' and '@'. */
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
const QUERY_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/;

/**
 * The canonical form of a request target (origin form `/a/b?q`, or absolute form
 * `http://host/a/b?q`): unreserved characters percent-decoded, other escapes in upper case,
 * empty and dot segments resolved. Throws UnsafePathError for an encoded `/` or `\`, an
 * encoded NUL or control character, a backslash, or any character a path may not hold.
 */
export function canonicalTarget(raw: string): { path: string; query: string } {
  const target = originForm(raw);
  if (target.includes('#')) throw new UnsafePathError('a request target may not hold a fragment');
  const mark = target.indexOf('?');
  const rawPath = mark === -1 ? target : target.slice(0, mark);
  const query = mark === -1 ? '' : target.slice(mark);
  if (!PATH_CHARS.test(rawPath)) throw new UnsafePathError('the path holds a character a path may not hold (a backslash, a control character, a space or non-ASCII)');
  if (!QUERY_CHARS.test(query.slice(1))) throw new UnsafePathError('the query holds a character a query may not hold');
  checkEscapes(query);
  return { path: resolveSegments(decodeUnreserved(rawPath)), query };
}

function originForm(raw: string): string {
  if (raw.startsWith('/')) return raw;
  const absolute = /^https?:\/\/[^/?#]*/i.exec(raw);
  if (!absolute) throw new UnsafePathError('the request target is neither a path nor an absolute http URL');
  const rest = raw.slice(absolute[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

function decodeUnreserved(path: string): string {
  return path.replace(/%(..)?/g, (_match, hex: string | undefined) => {
    if (!hex || !/^[0-9A-Fa-f]{2}$/.test(hex)) throw new UnsafePathError('the path holds a malformed percent-escape');
    const code = Number.parseInt(hex, 16);
    const char = String.fromCharCode(code);
    if (char === '/' || char === '\\') throw new UnsafePathError('the path holds an encoded slash or backslash');
    if (code < 0x20 || code === 0x7f) throw new UnsafePathError('the path holds an encoded NUL or control character');
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

function checkEscapes(query: string): void {
  for (const [, hex] of query.matchAll(/%(..)?/g)) {
    if (!hex || !/^[0-9A-Fa-f]{2}$/.test(hex)) throw new UnsafePathError('the query holds a malformed percent-escape');
  }
}

/** RFC 3986 dot-segment removal, with empty segments (`//`) dropped as well. */
function resolveSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/').slice(1);
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '..') out.pop();
    else if (segment !== '.' && segment !== '') out.push(segment);
    // A path ending in "/", "/." or "/.." names a directory: keep its trailing slash.
    if (last && (segment === '' || segment === '.' || segment === '..')) out.push('');
  });
  return `/${out.join('/')}`;
}
