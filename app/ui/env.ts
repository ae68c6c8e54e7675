/** What every part of the UI app shares: its options, the session it runs for, its cookies. */
import type { Logger } from '../shared/log.js';
import type { StaticFile } from '../shared/static-files.js';
import type { AdminClient } from '../shared/admin-client.js';
import type { MigrationPreviews } from '../shared/migration-preview.js';
import type { Session, SessionSealer } from './session.js';

export interface UiOptions {
  admin: AdminClient;
  previews: MigrationPreviews;
  sealer: SessionSealer;
  assets: Map<string, StaticFile>;
  /** Cards per page of the queue. */
  pageSize: number;
  sessionTtlMs: number;
  /** A session unused this long has ended. */
  sessionIdleMs: number;
  /** Mark cookies Secure (the UI is served over HTTPS). */
  secureCookies: boolean;
  /** Set when an authenticating proxy in front of the UI names the reviewer. */
  proxy?: { identityHeader: string; groupsHeader: string };
  /** Ends every live queue stream, so stopping the server need not wait for open tabs. */
  shutdown: AbortSignal;
  log: Logger;
}

/** The routes behind `requireSession` read the signed-in reviewer's session from `c.get('session')`. */
export type UiEnv = { Variables: { session: Session } };

/** One line shown above a card or the queue: the outcome of a decision. */
export type Notice = { kind: 'error' | 'info'; text: string };

export const SESSION_COOKIE = 'hitl_session';
export const FLASH_COOKIE = 'hitl_flash';

export function cookieOptions(options: UiOptions, maxAgeMs: number) {
  return { path: '/', httpOnly: true, sameSite: 'Strict' as const, secure: options.secureCookies, maxAge: Math.floor(maxAgeMs / 1000) };
}
