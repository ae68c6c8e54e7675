/**
 * W3C Trace Context `traceparent`: `{version}-{trace-id}-{parent-id}-{flags}` in lower-case hex,
 * 2-32-16-2 digits. Version ff is invalid, as is a trace or parent id of only zeros; a later
 * version may append fields after the four. Only a link to a trace, never an identity: a value
 * that does not parse is dropped, not repaired.
 */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The traceparent as it was given, or null when it is not one. */
export function validTraceparent(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > 512) return null;
  const match = TRACEPARENT.exec(raw.trim());
  if (!match) return null;
  const [, version, traceId, parentId, , more] = match;
  if (version === 'ff' || /^0+$/.test(traceId) || /^0+$/.test(parentId)) return null;
  if (version === '00' && more !== undefined) return null;
  return raw.trim();
}
