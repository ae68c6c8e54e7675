import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { assistantDescription, assistantPrompt, needsUserApproval, type CatalogueEntry } from '../app/catalogue.js';
// kagent forwards this A2A header onto MCP calls, so the gateway gate knows who is asking.
import { REQUESTER_HEADER } from '../app/contracts/headers.js';
import { KAGENT_AGENT_PORT } from '../app/contracts/ports.js';
import { agentFlags } from '../app/agent/flags.js';
import { commonFlags } from '../app/shared/flags.js';
import { argv } from '../app/shared/invocation.js';
import {
  AgentV1Alpha2,
  AgentV1Alpha2SpecByoDeploymentResourcesLimits as Limit,
  AgentV1Alpha2SpecByoDeploymentResourcesRequests as Request,
  AgentV1Alpha2SpecDeclarativeToolsType,
  AgentV1Alpha2SpecType,
} from '../imports/agent-kagent.dev.js';
import type { GatedMcpServer } from './gated-mcp-server.js';
import type { GatewayRef } from './gateway.js';
import type { HitlPlatform } from './platform.js';
import { HARDENED, type HitlImage, type SecretKeyRef } from './workload.js';

export interface DeclarativeAgentProps {
  readonly name?: string;
  readonly namespace?: string;
  /** kagent ModelConfig the agent uses. */
  readonly modelConfig: string;
  readonly servers: GatedMcpServer[];
}

/**
 * The declarative kagent Agent: every tool of the given servers, with `requireApproval`
 * derived from the catalogue (user and both tiers), and the chat user's id forwarded.
 */
export class DeclarativeAgent extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: DeclarativeAgentProps) {
    super(scope, id);
    this.name = props.name ?? 'dba-assistant';
    const remotes = props.servers.flatMap((server) => server.remotes);
    new AgentV1Alpha2(this, 'agent', {
      metadata: { name: this.name, namespace: props.namespace ?? 'kagent' },
      spec: {
        type: AgentV1Alpha2SpecType.DECLARATIVE,
        description: assistantDescription(remotes.flatMap((remote) => remote.tools)),
        declarative: {
          modelConfig: props.modelConfig,
          systemMessage: assistantPrompt(remotes.flatMap((remote) => remote.tools)),
          tools: remotes.map((remote) => ({
            type: AgentV1Alpha2SpecDeclarativeToolsType.MCP_SERVER,
            mcpServer: {
              apiGroup: 'kagent.dev',
              kind: 'RemoteMCPServer',
              name: remote.name,
              namespace: remote.namespace,
              toolNames: remote.tools.map((t) => t.name),
              requireApproval: approvalList(remote.tools),
              allowedHeaders: [REQUESTER_HEADER],
            },
          })),
        },
      },
    });
  }
}

/** The tools the end user approves in the chat; omitted rather than empty when there are none. */
function approvalList(tools: readonly CatalogueEntry[]): string[] | undefined {
  const names = tools.filter((t) => needsUserApproval(t.tier)).map((t) => t.name);
  return names.length ? names : undefined;
}

export interface ByoAgentProps {
  readonly image: HitlImage;
  readonly name?: string;
  readonly namespace?: string;
  /** Where the agent reaches the MCP endpoints: the gateway in front of the servers. */
  readonly gateway: GatewayRef;
  /** The human gate behind that gateway; its park timeout bounds the tool timeout from below. */
  readonly gate?: HitlPlatform;
  /** How long a tool call may wait. Default: the gate's park timeout plus a minute, or 15 minutes. */
  readonly toolTimeout?: Duration;
  /** Anthropic key; without it the agent runs its offline scripted model. */
  readonly anthropicApiKey?: SecretKeyRef;
  readonly model?: string;
  /** PostgreSQL for durable pauses across replicas and restarts. */
  readonly databaseUrl?: SecretKeyRef;
  /**
   * The Ed25519 private key (PEM) the agent signs its users' approvals with, mounted from this
   * Secret into the agent alone; the MCP server gets only the public key.
   */
  readonly userApprovalKey?: SecretKeyRef;
}

/** Where the agent's approval key is mounted. */
const APPROVAL_KEY_DIR = '/keys';

const orUndefined = <T>(items: T[]): T[] | undefined => (items.length ? items : undefined);

/**
 * The same assistant as a BYO kagent Agent running `hitl agent` (LangGraph, interrupt()).
 * kagent owns its Deployment and probes (readiness on the agent card); this sets the rest.
 */
export class ByoAgent extends Construct {
  readonly name: string;
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: ByoAgentProps) {
    super(scope, id);
    this.name = props.name ?? 'dba-assistant-langgraph';
    this.namespace = props.namespace ?? 'kagent';
    const toolTimeout = props.gate
      ? props.gate.agentWait(`ByoAgent ${this.name}: toolTimeout`, props.toolTimeout)
      : (props.toolTimeout ?? Duration.minutes(15));
    const env = [
      // Optional: without the key the agent runs its offline model instead of failing to start.
      ...(props.anthropicApiKey ? [{ name: 'ANTHROPIC_API_KEY', valueFrom: { secretKeyRef: { ...props.anthropicApiKey, optional: true } } }] : []),
      ...(props.databaseUrl ? [{ name: 'HITL_DATABASE_URL', valueFrom: { secretKeyRef: props.databaseUrl } }] : []),
    ];
    new AgentV1Alpha2(this, 'agent', {
      metadata: { name: this.name, namespace: this.namespace },
      spec: {
        type: AgentV1Alpha2SpecType.BYO,
        // The card `hitl agent` serves says the same.
        description: assistantDescription(),
        byo: {
          deployment: {
            image: props.image.ref,
            imagePullPolicy: props.image.pullPolicy ?? 'IfNotPresent',
            args: [
              'agent',
              ...argv(commonFlags, { host: '0.0.0.0' }),
              // kagent serves every BYO agent on its port, through a Service named after the Agent.
              ...argv(agentFlags, {
                port: KAGENT_AGENT_PORT,
                gatewayUrl: props.gateway.url,
                toolTimeout: toolTimeout.toMilliseconds(),
                model: props.model,
                dataDir: props.databaseUrl ? undefined : '/data',
                approvalKey: props.userApprovalKey && `${APPROVAL_KEY_DIR}/${props.userApprovalKey.key}`,
              }),
            ],
            env,
            podSecurityContext: HARDENED.pod,
            securityContext: HARDENED.container,
            resources: {
              requests: { cpu: Request.fromString('50m'), memory: Request.fromString('192Mi') },
              limits: { cpu: Limit.fromString('1'), memory: Limit.fromString('768Mi') },
            },
            volumes: orUndefined([
              ...(props.databaseUrl ? [] : [{ name: 'data', emptyDir: {} }]),
              ...(props.userApprovalKey ? [{ name: 'approval-key', secret: { secretName: props.userApprovalKey.name, items: [{ key: props.userApprovalKey.key, path: props.userApprovalKey.key }] } }] : []),
            ]),
            volumeMounts: orUndefined([
              ...(props.databaseUrl ? [] : [{ name: 'data', mountPath: '/data' }]),
              ...(props.userApprovalKey ? [{ name: 'approval-key', mountPath: APPROVAL_KEY_DIR, readOnly: true }] : []),
            ]),
          },
        },
      },
    });
  }
}
