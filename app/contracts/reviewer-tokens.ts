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
  /** The reviewer's Slack user id: their clicks in Slack are their decisions. */
  slack?: string;
  /** Only on the Slack bridge's own entry: it may act for the reviewer a Slack user id maps to. */
  slackBridge?: boolean;
}

export function tokenSha256Hex(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
