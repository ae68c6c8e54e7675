/**
 * Who asked for a gated call. The answer decides who may not approve it, so a requester the
 * gate cannot read with certainty is a denial, never a guess: no header fallback when the
 * identity should come from verified claims, no anonymous request unless the operator allows
 * it, and one plain name per request.
 */

export interface RequesterSource {
  /** Request header naming the requester (lower case); unauthenticated unless a trusted hop sets it. */
  header: string;
  /** "namespace.key" in metadata_context (claims the gateway verified); when set, the only source. */
  metadata?: string;
  /** Let a request with no requester be parked; any reviewer may then approve it. */
  allowAnonymous: boolean;
}

export type RequesterVerdict = { ok: true; requester: string | null } | { ok: false; reason: string };

/** `metadata` values are strings, or null for a value of another type. */
export function requesterOf(
  source: RequesterSource,
  headers: Record<string, string>,
  metadata: Record<string, string | null>,
): RequesterVerdict {
  if (source.metadata) {
    const value = metadata[source.metadata];
    if (value === undefined) return refuse(`no requester identity: metadata ${source.metadata} is missing`);
    if (value === null) return refuse(`no requester identity: metadata ${source.metadata} is not a string`);
    if (value.trim() === '') return refuse(`no requester identity: metadata ${source.metadata} is empty`);
    return plainName(value, `metadata ${source.metadata}`, false);
  }
  const value = headers[source.header];
  if (value === undefined) {
    return source.allowAnonymous ? { ok: true, requester: null } : refuse('no requester identity');
  }
  if (value.trim() === '') return refuse(`no requester identity: header ${source.header} is empty`);
  return plainName(value, `header ${source.header}`, true);
}

function plainName(value: string, where: string, isHeader: boolean): RequesterVerdict {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) return refuse(`requester in ${where} holds a control character`);
  if (value !== value.trim()) return refuse(`requester in ${where} has surrounding whitespace`);
  // A gateway joins repeated headers with ", ": a comma means several values, or a name that could pass for them.
  if (isHeader && value.includes(',')) return refuse(`requester in ${where} must be exactly one value`);
  return { ok: true, requester: value };
}

function refuse(reason: string): RequesterVerdict {
  return { ok: false, reason };
}
