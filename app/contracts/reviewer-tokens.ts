/**
 * The reviewer tokens file: ext-auth reads it to know who may decide, and whoever issues
 * tokens (an operator, `hitl dev`) writes it. Only a token's SHA-256 is stored, so the file
 * grants nothing to whoever reads it.
 */
import { createHash } from 'node:crypto';

export interface ReviewerTokenEntry {
  name: string;
  groups: string[];
  /** SHA-256 of the bearer token, as 64 hex digits. */
  sha256: string;
}

export function tokenSha256Hex(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
