/**
 * Who is asking. Every A2A request must name its user, because a task belongs to the user who
 * created it: from a bearer JWT verified against a JWKS when one is configured (the header is
 * then ignored, since anyone can send a header), otherwise from the requester header that
 * kagent's controller sets on the calls it proxies. A request naming nobody is refused, unless
 * an anonymous user is configured for a local, single-user chat.
 */
import type { User } from '@a2a-js/sdk/server';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../shared/flags.js';

export interface CallerIdentityOptions {
  /** Header naming the user, trusted when no JWKS is configured. */
  requesterHeader: string;
  /** The user of requests that name nobody; unset, such requests are refused. */
  anonymousUser?: string;
  /** A JWKS file or https URL; when set, the user is the `sub` of a verified bearer JWT. */
  jwks?: string;
  /** With a JWKS: the `iss` and `aud` a token must carry, when given. */
  issuer?: string;
  audience?: string;
}

/** An identified caller: what the A2A SDK hands to the task store for owner scoping. */
export class Caller implements User {
  constructor(readonly userName: string) {}
  get isAuthenticated(): boolean {
    return true;
  }
}

/** A request that cannot be tied to a user; `problem` says why. */
export class Unidentified extends Error {}

/** The owner a task store scopes by, or undefined for a caller that is nobody. */
export function ownerOf(context: { user?: User } | undefined): string | undefined {
  return context?.user?.isAuthenticated ? context.user.userName : undefined;
}

export class CallerIdentity {
  private readonly keys?: JWTVerifyGetKey;

  constructor(private readonly options: CallerIdentityOptions) {
    if (options.jwks) this.keys = loadKeys(options.jwks);
  }

  /** Whether callers prove who they are with a bearer JWT (the agent card says so). */
  get usesJwt(): boolean {
    return this.keys !== undefined;
  }

  /** The caller of a request with these headers; throws Unidentified. */
  async identify(headers: Headers): Promise<Caller> {
    const name = this.keys ? await this.fromJwt(headers.get('authorization')) : headers.get(this.options.requesterHeader)?.trim();
    if (name) return new Caller(name);
    if (this.options.anonymousUser) return new Caller(this.options.anonymousUser);
    throw new Unidentified(this.keys ? 'send a bearer JWT naming the user in its sub claim' : `name the user in the ${this.options.requesterHeader} header`);
  }

  private async fromJwt(authorization: string | null): Promise<string | undefined> {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.keys!, { issuer: this.options.issuer, audience: this.options.audience, requiredClaims: ['sub', 'exp'] });
      if (!payload.sub?.trim()) throw new Unidentified('the bearer JWT names no user (its sub claim is empty)');
      return payload.sub.trim();
    } catch (err) {
      if (err instanceof Unidentified) throw err;
      const reason = err instanceof joseErrors.JOSEError ? err.message : `it could not be checked (${(err as Error).message})`;
      throw new Unidentified(`the bearer JWT is not accepted: ${reason}`);
    }
  }
}

function loadKeys(source: string): JWTVerifyGetKey {
  if (/^https?:\/\//.test(source)) return createRemoteJWKSet(new URL(source));
  try {
    return createLocalJWKSet(JSON.parse(readFileSync(source, 'utf8')));
  } catch (err) {
    throw new ConfigError('jwt-jwks', `cannot read a JWKS from ${source}: ${(err as Error).message}`);
  }
}
