/**
 * Reviewer sessions as the UI and the ext-auth admin API share them. The UI opens a session
 * when a reviewer signs in and sends its id with every admin call it makes for them; ext-auth
 * keeps the session in its store and answers 401 once it has ended (signed out, idle too long,
 * past its lifetime, or its token revoked), so a copied cookie stops working everywhere at once.
 */

/**
 * How a client (the UI, `hitl review`, the Slack bridge) proves to the ext-auth admin API who
 * the reviewer is. A signed-in reviewer's bearer credential also names their server-side
 * session, which ext-auth checks on every call; `slackUser` is set when the Slack bridge's
 * token acts for the reviewer that Slack user id maps to.
 */
export type Credential = { kind: 'bearer'; token: string; session?: string; slackUser?: string } | { kind: 'proxy'; name: string; groups: string[] };

/** Carries the session id on every admin call made for a signed-in reviewer. */
export const REVIEWER_SESSION_HEADER = 'x-reviewer-session';

/** `POST /sessions` body: how long the session may last, and may sit unused. */
export interface SessionLimits {
  ttlSeconds: number;
  idleSeconds: number;
}

/** `POST /sessions` answer. */
export interface OpenedSession {
  id: string;
  reviewer: string;
}
