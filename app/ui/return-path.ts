/**
 * Where to send a reviewer after signing in: only somewhere on this site. `next` is resolved
 * against the UI's own origin the way a browser would resolve it, and anything that lands
 * elsewhere, or that a browser might read differently than this check does (control
 * characters, which browsers strip; backslashes, which they treat as slashes), goes to `/`.
 */
export function returnPath(next: unknown, ownOrigin: string): string {
  if (typeof next !== 'string' || !next.startsWith('/')) return '/';
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return '/';
  let resolved: URL;
  try {
    resolved = new URL(next, ownOrigin);
  } catch {
    return '/';
  }
  if (resolved.origin !== new URL(ownOrigin).origin) return '/';
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}
