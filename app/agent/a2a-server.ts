/**
 * The agent over A2A on one JSON-RPC endpoint: A2A 1.0, and A2A 0.3 (what kagent v0.9 sends,
 * recognised by the absence of an `A2A-Version` header) through the SDK's compatibility
 * layer. Answers to approval pauses are checked before they reach the task: a bad or stale
 * answer is an error and resumes nothing.
 */
import { AgentCard, Extensions, formatSSEErrorEvent, formatSSEEvent, SSE_HEADERS, TaskState, type SendMessageRequest } from '@a2a-js/sdk';
import { duplicateInterfacesForLegacy } from '@a2a-js/sdk/compat/v0_3';
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server';
import { RequestMalformedError, TaskNotFoundError } from '@a2a-js/sdk/errors';
import { DefaultRequestHandler, JsonRpcTransportHandler, ServerCallContext, validateVersion, type TaskStore } from '@a2a-js/sdk/server';
import { Hono, type Context } from 'hono';
import { stream } from 'hono/streaming';
import { assistantDescription } from '../catalogue.js';
import { HITL_EXTENSION, InvalidResume } from './approval-wire.js';
import { ownerOf, Unidentified, type CallerIdentity } from './caller-identity.js';
import { decisionFrom, isApprovalAnswer, pausedOn, wireOf, type AssistantExecutor } from './executor.js';
import type { AgentGraph } from './graph.js';

/** The agent's name on its card and on every call it makes through the gateway. */
export const AGENT_NAME = 'dba-assistant-langgraph';
const LEGACY_VERSION = '0.3';
const LEGACY_EXTENSION_HEADER = 'X-A2A-Extensions';

/** How callers prove who they are, when the agent takes the user from a bearer JWT. */
const BEARER_JWT = { description: 'a JWT naming the user in its sub claim', scheme: 'Bearer', bearerFormat: 'JWT' };

export function agentCard(url: string, requiresJwt: boolean): AgentCard {
  return AgentCard.fromJSON({
    ...(requiresJwt && {
      securitySchemes: { bearer: { httpAuthSecurityScheme: BEARER_JWT } },
      // Stryker disable next-line ObjectLiteral: the card's JSON leaves an empty scope list out, so no scopes and none read alike
      securityRequirements: [{ schemes: { bearer: { list: [] } } }],
    }),
    name: AGENT_NAME,
    description: assistantDescription(),
    version: '0.1.0',
    supportedInterfaces: duplicateInterfacesForLegacy([{ url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }], ['JSONRPC']),
    capabilities: {
      streaming: true,
      extensions: [{ uri: HITL_EXTENSION, required: false, description: 'Tool approvals in the chat (kagent hitl/v1)' }],
    },
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [{ id: 'orders-dba', name: 'Orders DBA', description: 'Query, truncate and migrate the orders database', tags: ['database'], examples: ["What's in the orders table?", 'Apply migration v3.'] }],
  });
}

/** The 0.3 card, for clients that do not say they speak 1.0. */
function legacyCard(card: AgentCard, url: string) {
  return {
    protocolVersion: '0.3.0',
    name: card.name,
    description: card.description,
    url,
    preferredTransport: 'JSONRPC',
    version: card.version,
    capabilities: { streaming: true, pushNotifications: false, extensions: [{ uri: HITL_EXTENSION, required: false, description: 'Tool approvals in the chat (kagent hitl/v1)' }] },
    defaultInputModes: card.defaultInputModes,
    defaultOutputModes: card.defaultOutputModes,
    skills: card.skills.map((s) => ({ id: s.id, name: s.name, description: s.description, tags: s.tags, examples: s.examples })),
    ...(card.securityRequirements.length && {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: BEARER_JWT.bearerFormat, description: BEARER_JWT.description } },
      security: [{ bearer: [] }],
    }),
  };
}

/** Refuses approval answers that are malformed, incomplete, or for a task no longer paused. */
export class ApprovalGuard extends DefaultRequestHandler {
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    card: AgentCard,
    private readonly tasks: TaskStore,
    executor: AssistantExecutor,
    private readonly graph: AgentGraph,
  ) {
    super(card, tasks, executor);
  }

  override async sendMessage(params: SendMessageRequest, context: ServerCallContext) {
    const release = await this.turnOf(params.message?.taskId);
    try {
      await this.check(params, context);
      return await super.sendMessage(params, context);
    } finally {
      release();
    }
  }

  override async *sendMessageStream(params: SendMessageRequest, context: ServerCallContext) {
    const release = await this.turnOf(params.message?.taskId);
    try {
      await this.check(params, context);
      yield* super.sendMessageStream(params, context);
    } finally {
      release();
    }
  }

  /** Messages to one task are taken in turn, so two answers to one pause cannot both apply. */
  private async turnOf(taskId: string | undefined): Promise<() => void> {
    if (!taskId) return () => undefined;
    const before = this.queues.get(taskId) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.queues.set(taskId, tail);
    await before;
    return () => {
      release();
      if (this.queues.get(taskId) === tail) this.queues.delete(taskId);
    };
  }

  private async check(params: SendMessageRequest, context: ServerCallContext): Promise<void> {
    const message = params.message;
    if (!message) return;
    const task = message.taskId ? await this.tasks.load(message.taskId, context) : undefined;
    // Another user's task is not there for this caller: the same answer as an id never used.
    if (message.taskId && !task) throw new TaskNotFoundError(`Task not found: ${message.taskId}`);
    const conversation = task?.contextId || message.contextId;
    const waiting = conversation ? await pausedOn(this.graph, ownerOf(context)!, conversation) : [];
    if (task?.status?.state !== TaskState.TASK_STATE_INPUT_REQUIRED || !waiting.length) {
      if (isApprovalAnswer(message)) throw new RequestMalformedError(`task ${message.taskId || '(none)'} is not waiting for an approval; this answer is stale and resumes nothing`);
      // A new request on a conversation that is still paused would start a turn over the
      // pending call and leave the approval card answering something else.
      if (waiting.length) {
        throw new RequestMalformedError(`this conversation is waiting for an answer on ${waiting.map((a) => a.name).join(', ')}; approve or reject it before asking something new`);
      }
      return;
    }
    try {
      decisionFrom(message, waiting, wireOf(context));
    } catch (err) {
      if (err instanceof InvalidResume) throw new RequestMalformedError(`invalid approval answer: ${err.message}`);
      throw err;
    }
  }
}

export function a2aApp(handler: ApprovalGuard, cardFor: (origin: string) => AgentCard, identity: CallerIdentity): Hono {
  const v1 = new JsonRpcTransportHandler(handler);
  const legacy = new LegacyJsonRpcTransportHandler(handler);
  const app = new Hono();
  const speaksLegacy = (c: Context) => (c.req.header('a2a-version') ?? LEGACY_VERSION) === LEGACY_VERSION;

  app.get('/.well-known/agent-card.json', (c) => {
    const origin = new URL(c.req.url).origin;
    const card = cardFor(origin);
    return speaksLegacy(c) ? c.json(legacyCard(card, card.supportedInterfaces[0].url)) : c.json(AgentCard.toJSON(card) as object);
  });

  app.post('/', async (c) => {
    const useLegacy = speaksLegacy(c);
    const mapError = useLegacy ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError : JsonRpcTransportHandler.mapToJSONRPCError;
    let body: Record<string, unknown>;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'the body is not JSON' } });
    }
    let user;
    try {
      user = await identity.identify(c.req.raw.headers);
    } catch (err) {
      if (!(err instanceof Unidentified)) throw err;
      // Every task belongs to someone: a request naming nobody could read or answer anyone's.
      const challenge = identity.usesJwt ? { 'www-authenticate': 'Bearer realm="hitl-agent"' } : undefined;
      return c.json({ jsonrpc: '2.0', id: body.id ?? null, error: { code: -32600, message: `who is asking? ${err.message}` } }, 401, challenge);
    }
    const extensions = (useLegacy ? c.req.header(LEGACY_EXTENSION_HEADER) : undefined) ?? c.req.header('a2a-extensions');
    const context = new ServerCallContext({
      requestedExtensions: Extensions.parseServiceParameter(extensions),
      user,
      requestedVersion: c.req.header('a2a-version'),
    });
    try {
      // Stryker disable next-line StringLiteral: every interface on the card is JSON-RPC, so the versions for any binding are the JSON-RPC ones
      validateVersion(context.requestedVersion, await handler.getAgentCard(), 'JSONRPC');
    } catch (err) {
      return c.json({ jsonrpc: '2.0', id: body.id ?? null, error: mapError(err) });
    }
    const answer = await (useLegacy ? legacy : v1).handle(body, context);
    const activated = context.activatedExtensions;
    // Stryker disable next-line StringLiteral: the card offers one extension, so at most one is activated and the separator never shows
    if (activated?.length) c.header(useLegacy ? LEGACY_EXTENSION_HEADER : 'A2A-Extensions', activated.join(','));
    // A JSON-RPC answer, or the events of a stream.
    if (!(Symbol.asyncIterator in answer)) return c.json(answer);
    for (const [name, value] of Object.entries(SSE_HEADERS)) c.header(name, value);
    return stream(c, async (out) => {
      try {
        for await (const event of answer as AsyncGenerator<unknown>) await out.write(formatSSEEvent(event));
      } catch (err) {
        await out.write(formatSSEErrorEvent({ jsonrpc: '2.0', id: body.id ?? null, error: mapError(err) }));
      }
    });
  });

  return app;
}
