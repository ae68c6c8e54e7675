/**
 * What makes two calls "the same call" to the gate: the same requester (names.ts), the same gate and the
 * same canonical tool calls (app/contracts/tool-call.ts: method, tool name, arguments with
 * sorted keys). Identical calls share one review; a decision on one answers the others.
 */
import { createHash } from 'node:crypto';
import { callHash, type ToolCall } from '../contracts/tool-call.js';
import { nameKey } from '../shared/names.js';

export function callKey(requester: string | null, gate: string, calls: readonly ToolCall[]): string {
  const identity = JSON.stringify([requester === null ? null : nameKey(requester), gate, calls.map((call) => callHash({ name: call.name, args: call.args }))]);
  return createHash('sha256').update(identity).digest('hex');
}
