/**
 * Reviewer sessions kept server-side, in the same store as the requests, so every ext-auth
 * replica (and so every UI replica in front of them) sees a sign-out at once. Only the
 * SHA-256 of a session id is stored: a copy of the table opens no session.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Sql } from '../shared/sql.js';

export type SessionEnd = 'signed out' | 'token revoked';

/** Serialises creating the table when several replicas start on one PostgreSQL. */
const SCHEMA_LOCK = 72_410_003;

const digest = (value: string) => createHash('sha256').update(value).digest('hex');

export class ReviewerSessions {
  constructor(private readonly sql: Sql) {}

  async init(): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      await tx.query(`CREATE TABLE IF NOT EXISTS hitl_reviewer_sessions (
        id_sha256 text PRIMARY KEY, reviewer text NOT NULL, credential text NOT NULL,
        created_at timestamptz NOT NULL, last_seen_at timestamptz NOT NULL, idle_seconds int NOT NULL,
        expires_at timestamptz NOT NULL, ended_at timestamptz, end_reason text)`);
    });
  }

  /**
   * Opens a session for `reviewer` signed in with `credential` (`token:<sha256 of the token>`
   * or `proxy:<name>`); returns its id.
   */
  async open(reviewer: string, credential: string, limits: { ttlSeconds: number; idleSeconds: number }): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    await this.sql.query(
      `INSERT INTO hitl_reviewer_sessions (id_sha256, reviewer, credential, created_at, last_seen_at, idle_seconds, expires_at)
       VALUES ($1, $2, $3, now(), now(), $4, now() + make_interval(secs => $5))`,
      [digest(id), reviewer, credential, limits.idleSeconds, limits.ttlSeconds],
    );
    return id;
  }

  /**
   * Whether the session is live for this reviewer and credential; a live one counts as used
   * now (`touch`), which is what keeps it from going idle.
   */
  async check(id: string, reviewer: string, credential: string, touch = true): Promise<boolean> {
    const live = `id_sha256 = $1 AND reviewer = $2 AND credential = $3 AND ended_at IS NULL
      AND expires_at > now() AND last_seen_at > now() - make_interval(secs => idle_seconds)`;
    const args = [digest(id), reviewer, credential];
    const { rowCount } = touch
      ? await this.sql.query(`UPDATE hitl_reviewer_sessions SET last_seen_at = now() WHERE ${live}`, args)
      : await this.sql.query(`SELECT 1 FROM hitl_reviewer_sessions WHERE ${live}`, args);
    return rowCount > 0;
  }

  async end(id: string, reason: SessionEnd): Promise<void> {
    await this.sql.query(`UPDATE hitl_reviewer_sessions SET ended_at = now(), end_reason = $2 WHERE id_sha256 = $1 AND ended_at IS NULL`, [digest(id), reason]);
  }

  /** Ends every session signed in with a token no longer listed; returns how many ended. */
  async endUnlisted(listedSha256: string[]): Promise<number> {
    const { rowCount } = await this.sql.query(
      `UPDATE hitl_reviewer_sessions SET ended_at = now(), end_reason = 'token revoked'
       WHERE ended_at IS NULL AND credential LIKE 'token:%' AND NOT (substr(credential, 7) = ANY($1::text[]))`,
      [listedSha256],
    );
    return rowCount;
  }
}
