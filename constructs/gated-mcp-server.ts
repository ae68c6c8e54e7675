import { Duration, Size } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { catalogue, endpoints, needsPlatformApproval, toolsOn, type CatalogueEntry, type Endpoint, type EndpointName } from '../app/catalogue.js';
import {
  AgentgatewayPolicy,
  AgentgatewayPolicySpecTrafficExtAuthFailureMode,
  AgentgatewayPolicySpecTrafficExtAuthForwardBodyMaxSize,
} from '../imports/agentgatewaypolicy-agentgateway.dev.js';
import { HttpRoute, HttpRouteSpecRulesFiltersType, HttpRouteSpecRulesMatchesPathType } from '../imports/httproute-gateway.networking.k8s.io.js';
import { APPROVAL_TOKEN_HEADER } from '../app/contracts/approval-token.js';
import { gatePolicyExtensions } from '../app/contracts/gate-policy.js';
import { APPROVAL_ID_HEADER, APPROVED_BY_HEADER, TRACEPARENT_HEADER } from '../app/contracts/headers.js';
import { ReferenceGrant } from '../imports/referencegrant-gateway.networking.k8s.io.js';
import { RemoteMcpServer, RemoteMcpServerSpecProtocol } from '../imports/remotemcpserver-kagent.dev.js';
import { fromGateway, type GatewayRef } from './gateway.js';
import type { HitlPlatform } from './platform.js';
import { mcpFlags } from '../app/mcp/flags.js';
import type { FlagValues } from '../app/shared/flags.js';
import { argv, listeningPorts } from '../app/shared/invocation.js';
import { HitlWorkload, workloadPorts, type HitlImage, type SecretKeyRef } from './workload.js';

/** Who approves on the gateway, sent to ext-auth as the policy's contextExtensions. */
export interface ApprovalRule {
  /** Gate name shown on cards and recorded in the audit. Default `platform`. */
  readonly gate?: string;
  /** Distinct reviewers needed. Default 1. */
  readonly approvals?: number;
  /** Only members of this group may decide. Default `platform`. */
  readonly reviewerGroup?: string;
}

export interface GatedMcpServerProps {
  readonly image: HitlImage;
  /** Namespace of the server, its routes and its gate policy. Default `ops-tools`. */
  readonly namespace?: string;
  readonly name?: string;
  /** The tools this server serves, with their tiers. Default: the project's catalogue. */
  readonly tools?: readonly CatalogueEntry[];
  /** `hitl` subcommand and flags that serve those tools, on the MCP server's default port. Default `hitl mcp`. */
  readonly args?: string[];
  /** The human gate for privileged tools; required when any tool needs a platform reviewer. */
  readonly gate?: HitlPlatform;
  /** The gateway carrying the routes. Default: the gate's gateway. */
  readonly gateway?: GatewayRef;
  readonly approvalRule?: ApprovalRule;
  /** Largest body the gateway forwards to ext-auth; bigger calls get 413. Default 64 KiB. */
  readonly maxBodySize?: Size;
  /** Where kagent's RemoteMCPServers go (the agents' namespace). Default `kagent`. */
  readonly agentNamespace?: string;
  /**
   * Public key (PEM) that verifies the end users' approvals a BYO agent signs; with it the
   * server's audit names the user who approved a `user` or `both` tool call.
   */
  readonly userApprovalVerifyKey?: SecretKeyRef;
  /** Agent-side request timeout; must outlast the gate's park timeout. Default park + 1 minute. */
  readonly remoteTimeout?: Duration;
}

/** A kagent RemoteMCPServer for one endpoint, and the tools agents find there. */
export interface McpRemote {
  readonly endpoint: EndpointName;
  readonly name: string;
  readonly namespace: string;
  readonly tools: readonly CatalogueEntry[];
}

/**
 * The `x-hitl-*` headers a client might send to pass for the gate. A route filter removes
 * them by name (Gateway API has no prefix match). agentgateway applies header filters after
 * ext_authz, so on a gated route the filter would also remove the token ext-auth just added:
 * there the approval header is left to ext-auth, which overwrites any client value when it
 * approves and never lets a tool call pass without approving; a forged one cannot verify. The
 * traceparent it passes on likewise: ext-auth sets it, or removes a client's when it has none.
 */
function clientSentGateHeaders(endpoint: Endpoint): string[] {
  const informational = [APPROVAL_ID_HEADER, APPROVED_BY_HEADER];
  return endpoint.name === 'privileged' ? informational : [APPROVAL_TOKEN_HEADER, TRACEPARENT_HEADER, ...informational];
}

/** Smallest body limit that still fits a realistic tool call with its arguments. */
export const MIN_FORWARDED_BODY = Size.kibibytes(16);

/**
 * An MCP server behind the gateway: one HTTPRoute per tier endpoint, the privileged one
 * gated by ext-auth (fail closed, body forwarded, no decision cache), and one kagent
 * RemoteMCPServer per endpoint for agents to use.
 */
export class GatedMcpServer extends Construct {
  readonly name: string;
  readonly namespace: string;
  readonly tools: readonly CatalogueEntry[];
  readonly server: HitlWorkload<'http'>;
  /** One RemoteMCPServer per endpoint that serves at least one tool. */
  readonly remotes: McpRemote[] = [];
  readonly routes: Partial<Record<EndpointName, HttpRoute>> = {};
  readonly policy?: AgentgatewayPolicy;

  constructor(scope: Construct, id: string, props: GatedMcpServerProps) {
    super(scope, id);
    this.name = props.name ?? 'ops-tools';
    this.namespace = props.namespace ?? 'ops-tools';
    this.tools = props.tools ?? catalogue;
    const gate = props.gate;
    const gateway = props.gateway ?? gate?.gateway;
    if (!gateway) throw new Error(`GatedMcpServer ${this.name}: give a gateway (or a gate, whose gateway it uses)`);
    const privileged = this.tools.filter((t) => needsPlatformApproval(t.tier));
    if (privileged.length && !gate) {
      throw new Error(`GatedMcpServer ${this.name}: ${privileged.map((t) => t.name).join(', ')} need a platform reviewer, but no gate (HitlPlatform) was given`);
    }
    const maxBody = props.maxBodySize ?? Size.kibibytes(64);
    if (maxBody.toKibibytes() < MIN_FORWARDED_BODY.toKibibytes()) {
      throw new Error(`GatedMcpServer ${this.name}: maxBodySize ${maxBody.toKibibytes()} KiB is below the ${MIN_FORWARDED_BODY.toKibibytes()} KiB minimum; tool calls would be refused with 413`);
    }
    const remoteTimeout = gate ? gate.agentWait(`GatedMcpServer ${this.name}: remoteTimeout`, props.remoteTimeout) : (props.remoteTimeout ?? Duration.minutes(1));

    new k8s.KubeNamespace(this, 'namespace', { metadata: { name: this.namespace } });
    const serverArgs: Partial<FlagValues<typeof mcpFlags>> = {
      port: mcpFlags.port.default,
      dataDir: '/data',
      allowedHosts: [`${this.name}.${this.namespace}.svc.cluster.local`, new URL(gateway.url).hostname],
      ...(gate ? { approvalVerifyKey: '/etc/hitl/approval-verify-key/approval.pub' } : { noApprovalCheck: true }),
      userApprovalVerifyKey: props.userApprovalVerifyKey && `/etc/hitl/user-approval-verify-key/${props.userApprovalVerifyKey.key}`,
    };
    this.server = new HitlWorkload(this, 'server', {
      namespace: this.namespace,
      name: this.name,
      image: props.image,
      // The gateway may pass the agent's Host through, so its name is allowed as well as ours.
      // Only the public key is mounted here: this server verifies approvals and can never sign one.
      args: props.args ?? ['mcp', ...argv(mcpFlags, serverArgs)],
      ports: workloadPorts(listeningPorts(mcpFlags, serverArgs)),
      healthPort: 'http',
      data: { mountPath: '/data', size: Size.gibibytes(1) },
      secretFiles: [
        ...(gate ? [{ secretName: gate.approvalPublicKeySecret, mountPath: '/etc/hitl/approval-verify-key' }] : []),
        ...(props.userApprovalVerifyKey ? [{ secretName: props.userApprovalVerifyKey.name, mountPath: '/etc/hitl/user-approval-verify-key' }] : []),
      ],
    });

    const agentNamespace = props.agentNamespace ?? 'kagent';
    for (const endpoint of Object.values(endpoints)) {
      const tools = toolsOn(endpoint.name, this.tools);
      if (!tools.length) continue;
      this.routes[endpoint.name] = this.route(endpoint, gateway);
      const remote = new RemoteMcpServer(this, `remote-${endpoint.name}`, {
        metadata: { name: `${this.name}-${endpoint.name}`, namespace: agentNamespace },
        spec: {
          description: `${this.name} ${endpoint.name} tools: ${tools.map((t) => t.name).join(', ')}`,
          protocol: RemoteMcpServerSpecProtocol.STREAMABLE_UNDERSCORE_HTTP,
          url: `${gateway.url}${endpoint.path}`,
          timeout: `${remoteTimeout.toSeconds()}s`,
          sseReadTimeout: `${remoteTimeout.toSeconds()}s`,
          terminateOnClose: true,
        },
      });
      this.remotes.push({ endpoint: endpoint.name, name: remote.name, namespace: agentNamespace, tools });
    }

    if (gate && this.routes.privileged) {
      this.policy = this.gatePolicy(this.routes.privileged, gate, props.approvalRule ?? {}, maxBody);
    }
    // Agents come through the gateway; a platform whose reviewer UI shows this server's migration plans admits that UI (addReviewerUi).
    this.server.allowFrom(fromGateway(gateway), this.server.ports.http);
  }

  private route(endpoint: Endpoint, gateway: GatewayRef): HttpRoute {
    return new HttpRoute(this, `route-${endpoint.name}`, {
      metadata: { name: `${this.name}-${endpoint.name}`, namespace: this.namespace },
      spec: {
        parentRefs: [{ name: gateway.name, namespace: gateway.namespace }],
        rules: [
          {
            // Exactly the endpoint's path: one spelling, the one the MCP server serves.
            matches: [{ path: { type: HttpRouteSpecRulesMatchesPathType.EXACT, value: endpoint.path } }],
            filters: [{ type: HttpRouteSpecRulesFiltersType.REQUEST_HEADER_MODIFIER, requestHeaderModifier: { remove: clientSentGateHeaders(endpoint) } }],
            backendRefs: [{ name: this.server.ports.http.serviceName, port: this.server.ports.http.number }],
          },
        ],
      },
    });
  }

  private gatePolicy(route: HttpRoute, gate: HitlPlatform, rule: ApprovalRule, maxBody: Size): AgentgatewayPolicy {
    const backend = gate.extAuthBackend;
    const policy = new AgentgatewayPolicy(this, 'gate', {
      metadata: { name: `${route.name}-gate`, namespace: this.namespace },
      spec: {
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: route.name }],
        traffic: {
          extAuth: {
            backendRef: backend,
            grpc: {
              contextExtensions: gatePolicyExtensions({
                gate: rule.gate ?? 'platform',
                approvals: rule.approvals ?? 1,
                reviewerGroup: rule.reviewerGroup ?? 'platform',
              }),
            },
            forwardBody: { maxSize: AgentgatewayPolicySpecTrafficExtAuthForwardBodyMaxSize.fromNumber(maxBody.toKibibytes() * 1024) },
            failureMode: AgentgatewayPolicySpecTrafficExtAuthFailureMode.FAIL_CLOSED,
          },
        },
      },
    });
    if (backend.namespace !== this.namespace) {
      // Clusters in `route-and-policy` grant mode need this for the cross-namespace backendRef.
      new ReferenceGrant(this, 'ext-auth-grant', {
        metadata: { name: `${this.name}-to-ext-auth`, namespace: backend.namespace },
        spec: {
          from: [{ group: 'agentgateway.dev', kind: 'AgentgatewayPolicy', namespace: this.namespace }],
          to: [{ group: '', kind: 'Service', name: backend.name }],
        },
      });
    }
    return policy;
  }
}
