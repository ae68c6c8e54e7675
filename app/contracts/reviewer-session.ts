/**
 * Reviewer sessions as the UI and the ext-auth admin API share them. The UI opens a session
 * when a reviewer signs in and sends its id with every admin call it makes for them; ext-auth
 * keeps the session in its store and answers 401 once it has ended (signed out, idle too long,
 * past its lifetime, or its token revoked), so a copied cookie stops working everywhere at once.
 */

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
