import { Role, TaskState, type Message, type StreamResponse, type Task } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory, ServiceParameters, withA2AExtensions, type Client } from '@a2a-js/sdk/client';
import { LegacyJsonRpcTransport } from '@a2a-js/sdk/compat/v0_3/client';
import { randomUUID } from 'node:crypto';
import { HITL_EXTENSION } from '../../app/agent/approval-wire.js';

export type Generation = '1.0' | '0.3';

/** What a test sends with: the official A2A SDK client for either protocol generation. */
export interface ChatClient {
  generation: Generation;
  /** Sends a new request, or a message onto a task (`id`) or a conversation (`contextId` alone). */
  send(text: string, onto?: Partial<Pick<Task, 'id' | 'contextId'>>): Promise<Task>;
  /** Sends a message carrying only an answer to a pause. */
  answer(task: Task, answer: Answer): Promise<Task>;
  /** Sends a new request and returns at once with the task as it then is (returnImmediately). */
  start(text: string, onto?: Partial<Pick<Task, 'id' | 'contextId'>>): Promise<Task>;
  /** `send` and `answer` over a stream: every event the agent sent, in order. */
  sendStreaming(text: string, onto?: Partial<Pick<Task, 'id' | 'contextId'>>): Promise<StreamResponse[]>;
  answerStreaming(task: Task, answer: Answer): Promise<StreamResponse[]>;
  getTask(id: string): Promise<Task>;
  /** A2A 1.0 only: 0.3 has no way to list tasks. */
  listTasks(): Promise<Task[]>;
  cancelTask(id: string): Promise<Task>;
  /** The first event of a resubscription to a task's updates. */
  resubscribe(id: string): Promise<unknown>;
}

export interface Answer {
  metadata?: Record<string, unknown>;
  data?: Record<string, unknown>;
}

/**
 * `as` names the user: a string for the x-user-id header, headers of its own (a bearer JWT), or
 * null for nobody. `fetchImpl` carries the client's requests, to an app in this process.
 */
export async function chatClient(
  agentUrl: string,
  generation: Generation,
  as: string | Record<string, string> | null = 'erin',
  { fetchImpl }: { fetchImpl?: typeof fetch } = {},
): Promise<ChatClient> {
  const headers: Record<string, string> = as === null ? {} : typeof as === 'string' ? { 'x-user-id': as } : as;
  let transport: Pick<Client, 'sendMessage' | 'sendMessageStream' | 'getTask' | 'listTasks' | 'cancelTask' | 'resubscribeTask'>;
  let serviceParameters: ServiceParameters;
  if (generation === '1.0') {
    // kagent v0.10+: opts into the hitl/v1 extension.
    const options = fetchImpl
      ? ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { transports: [new JsonRpcTransportFactory({ fetchImpl })], cardResolver: new DefaultAgentCardResolver({ fetchImpl }) })
      : undefined;
    transport = await new ClientFactory(options).createFromUrl(agentUrl);
    serviceParameters = ServiceParameters.create(withA2AExtensions(HITL_EXTENSION), (p) => Object.assign(p, headers));
  } else {
    // kagent v0.9: A2A 0.3, no extension.
    transport = new LegacyJsonRpcTransport({ endpoint: `${agentUrl}/`, fetchImpl });
    serviceParameters = ServiceParameters.create((p) => Object.assign(p, headers));
  }
  const sendMessage = async (message: Message, returnImmediately = false) => {
    const configuration = returnImmediately ? { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately } : undefined;
    const result = await transport.sendMessage({ tenant: '', message, configuration, metadata: {} }, { serviceParameters });
    if (!('status' in result)) throw new Error('the agent answered with a message, not a task');
    return result as Task;
  };
  const streamMessage = async (message: Message) => {
    const events: StreamResponse[] = [];
    for await (const event of transport.sendMessageStream({ tenant: '', message, configuration: undefined, metadata: {} }, { serviceParameters })) events.push(event as StreamResponse);
    return events;
  };
  const textMessage = (text: string, onto?: Partial<Pick<Task, 'id' | 'contextId'>>) => userMessage([{ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: '' }], onto);
  const answerMessage = (task: Task, { metadata, data }: Answer) => ({
    ...userMessage(data ? [{ content: { $case: 'data' as const, value: data }, metadata: undefined, filename: '', mediaType: '' }] : [], task),
    metadata,
  });
  return {
    generation,
    send: (text, onto) => sendMessage(textMessage(text, onto)),
    answer: (task, answer) => sendMessage(answerMessage(task, answer)),
    start: (text, onto) => sendMessage(textMessage(text, onto), true),
    sendStreaming: (text, onto) => streamMessage(textMessage(text, onto)),
    answerStreaming: (task, answer) => streamMessage(answerMessage(task, answer)),
    getTask: (id) => transport.getTask({ tenant: '', id, historyLength: 0 }, { serviceParameters }),
    listTasks: async () => (await transport.listTasks({ tenant: '', contextId: '', status: TaskState.TASK_STATE_UNSPECIFIED, pageSize: 100, pageToken: '', historyLength: 0, statusTimestampAfter: undefined, includeArtifacts: false }, { serviceParameters })).tasks,
    cancelTask: (id) => transport.cancelTask({ tenant: '', id, metadata: {} } as never, { serviceParameters }),
    resubscribe: async (id) => {
      for await (const event of transport.resubscribeTask({ tenant: '', id } as never, { serviceParameters })) return event;
      return undefined;
    },
  };
}

function userMessage(parts: Message['parts'], onto?: Partial<Pick<Task, 'id' | 'contextId'>>): Message {
  return { messageId: randomUUID(), contextId: onto?.contextId ?? '', taskId: onto?.id ?? '', role: Role.ROLE_USER, parts, metadata: undefined, extensions: [], referenceTaskIds: [] };
}

export const isPaused = (task: Task) => task.status?.state === TaskState.TASK_STATE_INPUT_REQUIRED;
export const isCompleted = (task: Task) => task.status?.state === TaskState.TASK_STATE_COMPLETED;

export function replyText(task: Task): string {
  return (task.status?.message?.parts ?? []).flatMap((p) => (p.content?.$case === 'text' ? [p.content.value] : [])).join('\n');
}

/** The approval request a paused task shows, in the wire of its generation. */
export function pauseOf(task: Task): { approvalIds: string[]; tools: string[] } {
  const message = task.status?.message;
  const extension = message?.metadata?.[HITL_EXTENSION] as { tools: { id: string; name: string }[] } | undefined;
  if (extension) return { approvalIds: extension.tools.map((t) => t.id), tools: extension.tools.map((t) => t.name) };
  const confirmations = (message?.parts ?? []).flatMap((p) => (p.content?.$case === 'data' && p.content.value?.name === 'adk_request_confirmation' ? [p.content.value] : []));
  return { approvalIds: confirmations.map((c) => c.id), tools: confirmations.map((c) => c.args.originalFunctionCall.name) };
}

/** Approves (or rejects) everything a paused task waits on, in its generation's wire. */
export function approveAll(client: ChatClient, task: Task, approved: boolean, reason?: string) {
  if (client.generation === '0.3') {
    return client.answer(task, { data: approved ? { decision_type: 'approve' } : { decision_type: 'reject', rejection_reason: reason } });
  }
  const approvals = pauseOf(task).approvalIds.map((id) => ({ id, approved, ...(approved ? {} : { rejection_reason: reason }) }));
  return client.answer(task, { metadata: { [HITL_EXTENSION]: { type: 'tool_approval_response', approvals } } });
}

/** What an A2A call failed with, as the SDK client reports it. */
export async function failure(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the call succeeded');
}
