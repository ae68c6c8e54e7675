/**
 * Reviewer sessions: the credential and the id of the session ext-auth keeps travel in a
 * cookie sealed with AES-256-GCM, so the browser holds them but can neither read nor alter
 * them, and any UI replica sharing the secret can open it. Whether the session is still live
 * (not signed out, idle or revoked) is ext-auth's to say, on every call; see
 * contracts/reviewer-session.ts. CSRF tokens are an HMAC of the session id.
 */
import type { Credential } from '../contracts/reviewer-session.js';
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Session {
  /** Random per sign-in; what CSRF tokens are bound to. */
  id: string;
  reviewer: string;
  credential: Credential;
  expiresAt: number;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SessionSealer {
  private readonly key: Buffer;

  /** Without a secret the key is random, so sessions end when the process does. */
  constructor(secret: string | undefined) {
    this.key = secret ? createHash('sha256').update(secret).digest() : randomBytes(32);
  }

  seal(value: unknown): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const sealed = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  /** The value, or undefined for anything altered, foreign or malformed. */
  open<T>(text: string | undefined): T | undefined {
    if (!text) return undefined;
    const raw = Buffer.from(text, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as T;
    } catch {
      // Altered, foreign, too short to hold a nonce and a tag, or not JSON: nothing to open.
    }
    return undefined;
  }

  newSession(reviewer: string, credential: Credential, ttlMs: number): Session {
    return { id: randomBytes(16).toString('base64url'), reviewer, credential, expiresAt: Date.now() + ttlMs };
  }

  /** The session in `cookie` if it has not expired by `now`: it lasts up to, not including, its expiry. */
  openSession(cookie: string | undefined, now = Date.now()): Session | undefined {
    const session = this.open<Session>(cookie);
    return session && session.expiresAt > now ? session : undefined;
  }

  csrfToken(sessionId: string): string {
    return createHmac('sha256', this.key).update(`csrf:${sessionId}`).digest('base64url');
  }

  checkCsrf(sessionId: string, token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const expected = Buffer.from(this.csrfToken(sessionId));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
