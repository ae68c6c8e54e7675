/**
 * The DBA assistant as a LangGraph graph: model → (approval) → tools → model. Before any call
 * whose catalogue tier needs the end user (`user`, `both`, or a tool the catalogue does not
 * know), the graph pauses with `interrupt({action_requests})`; the value it resumes with
 * decides each call. Rejected calls become tool messages carrying the user's reason, and a call
 * identical to one refused earlier in the turn is never sent again (refused-calls.ts).
 */
import { AIMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { Annotation, END, interrupt, MessagesAnnotation, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph';
import { findTool, needsUserApproval } from '../catalogue.js';
import type { GateDetails } from '../contracts/denial.js';
import { verdictFor, type ActionRequest, type ApprovalDecision } from './approval-wire.js';
import type { GatewayTools } from './gateway-tools.js';
import { notRetried, RefusedCalls } from './refused-calls.js';
import type { UserApprovalSigner } from './user-approval.js';

export interface AgentModel {
  invoke(messages: BaseMessage[]): Promise<AIMessage>;
}

export interface ApprovalInterrupt {
  action_requests: ActionRequest[];
}

const AgentState = Annotation.Root({
  ...MessagesAnnotation.spec,
  /** The chat user, sent to the gateway with every tool call. */
  user: Annotation<string>,
});
type State = typeof AgentState.State;

/** Unknown tools ask the user too: when in doubt, a human decides. */
export const needsTheUser = (name: string) => needsUserApproval(findTool(name)?.tier ?? 'user');

function lastModelTurn(messages: BaseMessage[]): AIMessage | undefined {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].getType() === 'ai') return messages[i] as AIMessage;
  return undefined;
}

/** What the graph needs of the gateway: to make a call on behalf of a user, carrying their approval. */
export type ToolGateway = Pick<GatewayTools, 'asUser' | 'call'>;

/** `signer`, when given, sends each call the user approved with a token proving it (user-approval.ts). */
export function buildGraph({ model, tools, checkpointer, signer }: { model: AgentModel; tools: ToolGateway; checkpointer: BaseCheckpointSaver; signer?: UserApprovalSigner }) {
  async function think(state: State) {
    return { messages: [await model.invoke(state.messages)] };
  }

  function askTheUser(state: State) {
    const refused = RefusedCalls.inCurrentTurn(state.messages);
    const calls = (lastModelTurn(state.messages)?.tool_calls ?? []).filter((c) => needsTheUser(c.name) && !refused.reasonFor(c));
    if (!calls.length) return {};
    const decision = interrupt<ApprovalInterrupt, ApprovalDecision>({
      action_requests: calls.map((c) => ({ name: c.name, args: c.args, id: c.id! })),
    });
    const rejected = calls.flatMap((call) => {
      const verdict = verdictFor(decision, call.id!);
      if (verdict.approved) return [];
      const content = `The user rejected the call to ${call.name}${verdict.reason ? `: ${verdict.reason}` : '.'}`;
      return [new ToolMessage({ tool_call_id: call.id!, name: call.name, content, status: 'error' })];
    });
    return { messages: rejected };
  }

  async function act(state: State) {
    const turn = lastModelTurn(state.messages)!;
    // Only tool messages have a tool_call_id; the others add undefined, which no call's id equals.
    const answered = new Set(state.messages.map((m) => (m as ToolMessage).tool_call_id));
    const refused = RefusedCalls.inCurrentTurn(state.messages);
    const results: ToolMessage[] = [];
    for (const call of turn.tool_calls ?? []) {
      if (answered.has(call.id!)) continue;
      const earlier = refused.reasonFor(call);
      if (earlier !== undefined) {
        results.push(new ToolMessage({ tool_call_id: call.id!, name: call.name, content: notRetried(earlier), status: 'error' }));
        continue;
      }
      // A call that needed the user and is still unanswered here was approved by them.
      const approval = signer && needsTheUser(call.name) ? await signer.tokenFor({ name: call.name, args: call.args }, state.user) : undefined;
      const outcome = await tools.asUser(state.user, () => tools.call(call.name, call.args), approval);
      if (!outcome.ok) refused.add(call, outcome.text);
      // The gate's details ride along as the artifact: the model reads the text, the chat the details.
      const artifact = outcome.ok ? undefined : outcome.gate;
      results.push(new ToolMessage({ tool_call_id: call.id!, name: call.name, content: outcome.text, status: outcome.ok ? 'success' : 'error', artifact }));
    }
    return { messages: results };
  }

  return new StateGraph(AgentState)
    .addNode('think', think)
    .addNode('ask_the_user', askTheUser)
    .addNode('act', act)
    .addEdge(START, 'think')
    .addConditionalEdges('think', (state) => (lastModelTurn(state.messages)?.tool_calls?.length ? 'ask_the_user' : END))
    .addEdge('ask_the_user', 'act')
    .addEdge('act', 'think')
    .compile({ checkpointer });
}

export type AgentGraph = ReturnType<typeof buildGraph>;

/** The gateway's "waiting for a platform reviewer" answer among this turn's tool results, if any. */
export function waitingOn(messages: BaseMessage[]): GateDetails | undefined {
  for (let i = messages.length - 1; i >= 0 && messages[i].getType() !== 'human'; i--) {
    // Only tool messages carry an artifact.
    const artifact = (messages[i] as ToolMessage).artifact as GateDetails | undefined;
    if (artifact?.status === 'waiting') return artifact;
  }
  return undefined;
}
