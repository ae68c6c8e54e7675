/**
 * Calls already refused in the current turn. A reviewer's rejection, a user's rejection or the
 * gate's denial is an answer, not a glitch: sending the identical call again would only ask the
 * same humans the same question (or, at a gate that forgets, let a second reviewer wave through
 * what the first refused). So within one turn — from the user's last message on — the graph
 * never sends a call identical to one refused, whatever the model asks for.
 */
import type { AIMessage, BaseMessage, ToolMessage } from '@langchain/core/messages';
import { callHash } from '../contracts/tool-call.js';

export interface ProposedCall {
  name: string;
  args: Record<string, unknown>;
}

export class RefusedCalls {
  private readonly reasons = new Map<string, string>();

  /** The refusals since the user last spoke, read from the conversation itself. */
  static inCurrentTurn(messages: BaseMessage[]): RefusedCalls {
    const refused = new RefusedCalls();
    let start = messages.length;
    while (start > 0 && messages[start - 1].getType() !== 'human') start--;
    const calls = new Map<string, ProposedCall>();
    for (const message of messages.slice(start)) {
      if (message.getType() === 'ai') for (const call of (message as AIMessage).tool_calls ?? []) calls.set(call.id!, call);
      if (message.getType() !== 'tool') continue;
      const result = message as ToolMessage;
      const call = calls.get(result.tool_call_id);
      if (call && result.status === 'error') refused.add(call, String(result.content));
    }
    return refused;
  }

  /** Keeps the first refusal: a later "not sent again" quoting it is no new answer, and quoting that would nest. */
  add(call: ProposedCall, reason: string): void {
    const key = callHash(call);
    if (!this.reasons.has(key)) this.reasons.set(key, reason);
  }

  /** Why an identical call was refused earlier in this turn, or undefined if none was. */
  reasonFor(call: ProposedCall): string | undefined {
    return this.reasons.get(callHash(call));
  }
}

/** What the model reads instead of a second attempt. */
export const notRetried = (reason: string) => `Not sent again: the identical call was refused earlier in this turn (${reason}).`;
