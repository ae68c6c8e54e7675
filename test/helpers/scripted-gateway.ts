import type { ToolOutcome } from '../../app/agent/gateway-tools.js';
import type { ToolGateway } from '../../app/agent/graph.js';

export interface ProposedCall {
  name: string;
  args: Record<string, unknown>;
}

/** A call as it reached the gateway: made on behalf of `user`, carrying their `approval` if any. */
export interface ReceivedCall extends ProposedCall {
  user: string | undefined;
  approval: string | undefined;
}

/**
 * The gateway's side of the agent's tools, scripted: records every call that reaches it with
 * the user and approval it was made with, and answers as `answer` says (a held promise keeps
 * the call waiting, as a platform review would). By default every call succeeds.
 */
export class ScriptedGateway implements ToolGateway {
  readonly received: ReceivedCall[] = [];
  private caller: { user: string; approval?: string } | undefined;

  constructor(private readonly answer: (call: ProposedCall) => ToolOutcome | Promise<ToolOutcome> = (call) => ({ ok: true, text: `${call.name} done` })) {}

  async asUser<T>(user: string, work: () => Promise<T>, approval?: string): Promise<T> {
    this.caller = { user, approval };
    try {
      return await work();
    } finally {
      this.caller = undefined;
    }
  }

  async call(name: string, args: Record<string, unknown>): Promise<ToolOutcome> {
    this.received.push({ name, args, user: this.caller?.user, approval: this.caller?.approval });
    return this.answer({ name, args });
  }

  /** The names of the calls received, in order. */
  get sent(): string[] {
    return this.received.map((r) => r.name);
  }
}
