/**
 * The traceparent the stand-in gateway sends as the Check's request id, as agentgateway does:
 * the span of this hop, in the caller's trace when the caller sent a valid `traceparent`,
 * otherwise in a new trace.
 */
import { randomBytes } from 'node:crypto';
import { validTraceparent } from '../contracts/traceparent.js';

export function gatewaySpan(incoming: string | undefined): string {
  const parent = validTraceparent(incoming);
  const span = randomBytes(8).toString('hex');
  if (!parent) return `00-${randomBytes(16).toString('hex')}-${span}-01`;
  const [, traceId, , flags] = parent.split('-');
  return `00-${traceId}-${span}-${flags}`;
}
