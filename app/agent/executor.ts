/**
 * Runs the graph for one A2A task. A new message starts (or continues) the conversation; an
 * answer to a pause resumes exactly the paused calls. The pause goes out, and the answer is
 * read, in whichever approval wire the client speaks (see approval-wire.ts); answers are
 * checked before this runs (see ApprovalGuard), so here they are already known to be valid.
 */
import { Role, TaskState, type Message as A2AMessage, type Part } from '@a2a-js/sdk';
import { AgentEvent, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import { HumanMessage } from '@langchain/core/messages';
import { Command } from '@langchain/langgraph';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../shared/log.js';
import { ownerOf } from './caller-identity.js';
import type { DecisionAudit } from './decision-audit.js';
import { extensionPause, extensionResume, HITL_EXTENSION, legacyPause, legacyResume, type ActionRequest, type ApprovalDecision } from './approval-wire.js';
import { GATE_META_KEY } from '../contracts/denial.js';
import { needsTheUser, waitingOn, type AgentGraph, type ApprovalInterrupt } from './graph.js';

export type Wire = 'legacy' | 'extension';

/**
 * A conversation's graph thread is its user's: two users sending the same contextId reach two
 * different threads, so nobody can continue, read or answer someone else's conversation.
 */
const threadOf = (user: string, contextId: string) => ({ configurable: { thread_id: JSON.stringify([user, contextId]) } });

/** The calls a user's conversation is paused on, if it is paused. */
export async function pausedOn(graph: AgentGraph, user: string, contextId: string): Promise<ActionRequest[]> {
  const snapshot = await graph.getState(threadOf(user, contextId));
  return snapshot.tasks.flatMap((t) => t.interrupts.flatMap((i) => (i.value as ApprovalInterrupt).action_requests));
}

export function wireOf(context: RequestContext['context']): Wire {
  return context.requestedExtensions?.includes(HITL_EXTENSION) ? 'extension' : 'legacy';
}

/** Reads the client's answer in its wire; throws InvalidResume for a bad hitl/v1 answer. */
export function decisionFrom(message: A2AMessage, pending: ActionRequest[], wire: Wire): ApprovalDecision {
  if (wire === 'extension') return extensionResume(message.metadata?.[HITL_EXTENSION], extensionPause(pending));
  const data = message.parts.flatMap((p) => (p.content?.$case === 'data' ? [p.content.value] : []));
  return legacyResume(data, pending);
}

/** Whether a message tries to answer a pause (so it is stale when nothing is paused). */
export function isApprovalAnswer(message: A2AMessage): boolean {
  return message.metadata?.[HITL_EXTENSION] !== undefined || message.parts.some((p) => p.content?.$case === 'data' && 'decision_type' in Object(p.content.value));
}

export class AssistantExecutor implements AgentExecutor {
  constructor(
    private readonly graph: AgentGraph,
    private readonly audit: DecisionAudit,
    private readonly log: Logger,
  ) {}

  async execute(request: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { taskId, contextId } = request;
    // The A2A endpoint identifies every caller before a task runs (caller-identity.ts).
    const user = ownerOf(request.context)!;
    const thread = threadOf(user, contextId);
    const wire = wireOf(request.context);
    if (wire === 'extension') request.context.addActivatedExtension(HITL_EXTENSION);
    const say = (state: TaskState, parts: Part[] = [], metadata?: Record<string, unknown>) =>
      bus.publish(
        AgentEvent.statusUpdate({
          taskId,
          contextId,
          status: {
            state,
            timestamp: new Date().toISOString(),
            message: parts.length ? agentMessage(taskId, contextId, parts, metadata) : undefined,
          },
          metadata: undefined,
        }),
      );

    // A stream must open with the task; a resumed one is working again, no longer asking.
    const now = new Date().toISOString();
    bus.publish(
      AgentEvent.task(
        request.task
          ? { ...request.task, status: { state: TaskState.TASK_STATE_WORKING, message: undefined, timestamp: now } }
          : { id: taskId, contextId, status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: now }, artifacts: [], history: [request.userMessage], metadata: {} },
      ),
    );
    const pending = request.task?.status?.state === TaskState.TASK_STATE_INPUT_REQUIRED ? await pausedOn(this.graph, user, contextId) : [];
    const decision = pending.length ? decisionFrom(request.userMessage, pending, wire) : undefined;
    const input = decision ? new Command<ApprovalDecision>({ resume: decision }) : { messages: [new HumanMessage(textOf(request.userMessage))], user };

    try {
      // Recorded before the approved call runs: a decision that cannot be recorded resumes nothing.
      if (decision) await this.audit.record({ decision, pending, decidedBy: user, taskId, contextId, wire });
      say(TaskState.TASK_STATE_WORKING);
      for await (const update of await this.graph.stream(input as Parameters<AgentGraph['stream']>[0], { ...thread, streamMode: 'updates' })) {
        const calls = (update as { think?: { messages: { tool_calls?: { name: string }[] }[] } }).think?.messages[0]?.tool_calls ?? [];
        // Shown while calls that need nobody in the chat run, which for a call gated at the
        // gateway means while a platform reviewer decides.
        const running = calls.filter((c) => !needsTheUser(c.name));
        if (running.length) say(TaskState.TASK_STATE_WORKING, [text(`executing ${running.map((c) => c.name).join(', ')}…`)]);
      }
      const paused = await pausedOn(this.graph, user, contextId);
      if (paused.length) {
        const ask = text(`Approval needed: ${paused.map((a) => a.name).join(', ')}`);
        if (wire === 'extension') say(TaskState.TASK_STATE_INPUT_REQUIRED, [ask], { [HITL_EXTENSION]: extensionPause(paused) });
        else say(TaskState.TASK_STATE_INPUT_REQUIRED, [ask, ...legacyPause(paused).map((c) => part({ $case: 'data', value: c.data }, c.metadata))]);
      } else {
        const { values } = await this.graph.getState(thread);
        // A call the gateway left waiting for a platform reviewer: the chat offers to try it again.
        const waiting = waitingOn(values.messages);
        say(TaskState.TASK_STATE_COMPLETED, [text(String(values.messages.at(-1)?.content ?? ''))], waiting ? { [GATE_META_KEY]: waiting } : undefined);
      }
    } catch (err) {
      this.log.error({ taskId, err: (err as Error).message }, 'task failed');
      say(TaskState.TASK_STATE_FAILED, [text(`The assistant failed: ${(err as Error).message}`)]);
    }
    bus.finished();
  }

  async cancelTask(taskId: string, bus: ExecutionEventBus): Promise<void> {
    bus.finished();
    this.log.info({ taskId }, 'cancel requested; a running tool call cannot be taken back');
  }
}

function part(content: Part['content'], metadata?: Record<string, unknown>): Part {
  return { content, metadata, filename: '', mediaType: '' };
}

const text = (value: string) => part({ $case: 'text', value });

function agentMessage(taskId: string, contextId: string, parts: Part[], metadata?: Record<string, unknown>): A2AMessage {
  const extensions = metadata?.[HITL_EXTENSION] ? [HITL_EXTENSION] : [];
  return { messageId: randomUUID(), taskId, contextId, role: Role.ROLE_AGENT, parts, metadata, extensions, referenceTaskIds: [] };
}

function textOf(message: A2AMessage): string {
  return message.parts.flatMap((p) => (p.content?.$case === 'text' ? [p.content.value] : [])).join('\n');
}
