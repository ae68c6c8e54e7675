/**
 * Slack's request signing: every request Slack sends carries X-Slack-Request-Timestamp and
 * X-Slack-Signature, `v0=` and the hex HMAC-SHA256, keyed with the app's signing secret, of
 * `v0:{timestamp}:{raw body}`. Anything unsigned, signed with another key, or older than five
 * minutes (a replay) is refused before its payload is even parsed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's own window; a request further from now than this either way is a replay or a broken clock. */
export const MAX_SKEW_SECONDS = 5 * 60;

export interface SignedRequest {
  timestamp: string | undefined;
  signature: string | undefined;
  body: string;
}

/** Returns why the request is not Slack's, or undefined when it is. */
export function signatureProblem(secret: string, request: SignedRequest, nowSeconds: number): string | undefined {
  const { timestamp, signature, body } = request;
  if (!timestamp || !signature) return 'the request carries no Slack signature';
  if (!/^\d{1,12}$/.test(timestamp)) return 'the Slack request timestamp is not a number of seconds';
  if (Math.abs(nowSeconds - Number(timestamp)) > MAX_SKEW_SECONDS) return 'the Slack request timestamp is more than five minutes from now';
  const expected = Buffer.from(`v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'the Slack signature does not match';
  return undefined;
}
