/**
 * Signed approvals: the token that carries a human's approval of one tool call to the MCP
 * server that runs it.
 *
 * A header such as `x-hitl-approved-by` proves nothing: any caller can send it. The approving
 * side (ext-auth for a platform reviewer, the BYO agent for the end user in the chat) signs a
 * short-lived compact JWS with an Ed25519 key only it holds; the MCP server holds only the
 * public key. The token names one approval (its id is unique, so it runs at most once), who
 * asked, who approved, which gate, and the SHA-256 of the one canonical call it approves
 * (tool-call.ts), so it cannot run another call, another time, or twice.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';

/**
 * The header that carries a platform approval: ext-auth adds it to the request it allows, and
 * gateways strip every client-sent `x-hitl-*` header, so only ext-auth can put it there.
 */
export const APPROVAL_TOKEN_HEADER = 'x-hitl-approval';

/**
 * The header that carries the end user's approval from the agent that asked them. It comes
 * from the client side of the gateway, so it lies outside the stripped `x-hitl-` prefix; its
 * signature, not its path, is what makes it trustworthy.
 */
export const USER_APPROVAL_TOKEN_HEADER = 'x-user-approval';

/** Who approved: a platform reviewer at the gateway, or the end user in their chat. */
export type ApprovalKind = 'platform' | 'user';

export interface ApprovalClaims {
  /** The approval's id; the MCP server runs a call for it at most once. */
  approvalId: string;
  kind: ApprovalKind;
  /** The gate (platform) or the approving surface (user) that took the decision. */
  gate: string;
  /** Who asked for the call, when known. */
  requester: string | null;
  /** Who approved it, in order. */
  approvers: string[];
  /** callHash() of the one call approved. */
  callHash: string;
}

const ISSUER: Record<ApprovalKind, string> = { platform: 'hitl-ext-auth', user: 'hitl-agent' };
const AUDIENCE = 'hitl-mcp';
const TOKEN_TYPE = 'hitl-approval+jwt';
/** Long enough for the gateway to forward the request, short enough to be useless later. */
export const MAX_TOKEN_LIFETIME_SECONDS = 60;

export class ApprovalTokenError extends Error {}

export function readSigningKey(file: string): KeyObject {
  return ed25519(() => createPrivateKey(readFileSync(file)), file, 'private');
}

export function readVerifyKey(file: string): KeyObject {
  return ed25519(() => createPublicKey(readFileSync(file)), file, 'public');
}

function ed25519(load: () => KeyObject, file: string, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = load();
  } catch (err) {
    throw new ApprovalTokenError(`${file} is not a PEM ${what} key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ApprovalTokenError(`${file} holds a ${key.asymmetricKeyType} key; an Ed25519 ${what} key is needed`);
  return key;
}

/** A fresh Ed25519 key pair as PEM text (PKCS#8 private, SPKI public). */
export function generateApprovalKeyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function signApproval(key: KeyObject, claims: ApprovalClaims, lifetimeSeconds = MAX_TOKEN_LIFETIME_SECONDS): Promise<string> {
  const lifetime = Math.min(Math.max(1, Math.floor(lifetimeSeconds)), MAX_TOKEN_LIFETIME_SECONDS);
  return new SignJWT({ gate: claims.gate, approvers: claims.approvers, call: claims.callHash })
    .setProtectedHeader({ alg: 'EdDSA', typ: TOKEN_TYPE })
    .setIssuer(ISSUER[claims.kind])
    .setAudience(AUDIENCE)
    .setJti(claims.approvalId)
    .setSubject(claims.requester ?? '')
    .setIssuedAt()
    .setExpirationTime(`${lifetime}s`)
    .sign(key);
}

/**
 * Checks a token's signature, issuer, audience, type and expiry, and that it approves exactly
 * `expectedCallHash`. Throws ApprovalTokenError saying why it cannot be trusted.
 */
export async function verifyApproval(
  key: KeyObject,
  kind: ApprovalKind,
  token: string,
  expectedCallHash: string,
  now: Date = new Date(),
): Promise<ApprovalClaims> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, key, {
      currentDate: now,
      algorithms: ['EdDSA'],
      issuer: ISSUER[kind],
      audience: AUDIENCE,
      typ: TOKEN_TYPE,
      requiredClaims: ['jti', 'exp', 'iat', 'sub'],
      maxTokenAge: `${MAX_TOKEN_LIFETIME_SECONDS}s`,
    }));
  } catch (err) {
    throw new ApprovalTokenError(describe(err));
  }
  const { jti, sub, gate, approvers, call } = payload as Record<string, unknown>;
  const isNames = Array.isArray(approvers) && approvers.length > 0 && approvers.every((name) => typeof name === 'string' && name !== '');
  if (typeof jti !== 'string' || jti === '' || typeof gate !== 'string' || !isNames || typeof call !== 'string') {
    throw new ApprovalTokenError('approval token is missing its approval id, gate, approvers or call');
  }
  if (call !== expectedCallHash) throw new ApprovalTokenError('approval token was issued for a different call');
  return { approvalId: jti, kind, gate, requester: sub === '' || typeof sub !== 'string' ? null : sub, approvers: approvers as string[], callHash: call };
}

function describe(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'approval token has expired';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'approval token signature does not verify';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `approval token claim "${err.claim}" is not acceptable: ${err.reason}`;
  if (err instanceof joseErrors.JOSEError) return `approval token is not acceptable: ${err.message}`;
  return `approval token could not be checked: ${(err as Error).message}`;
}
