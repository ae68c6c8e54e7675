import { Chart, type ChartProps, type Duration } from 'cdk8s';
import type { Construct } from 'constructs';
import { ByoAgent, DeclarativeAgent } from './agents.js';
import { AgentGateway, existingGateway, type GatewayRef } from './gateway.js';
import { GatedMcpServer } from './gated-mcp-server.js';
import { HitlPlatform } from './platform.js';
import type { HitlImage } from './workload.js';

export interface HitlStackProps extends ChartProps {
  readonly image: HitlImage;
  /** Use this Gateway instead of creating one. */
  readonly gateway?: { name: string; namespace: string };
  /** kagent ModelConfig for the declarative agent. Default `default-model-config`. */
  readonly modelConfig?: string;
  /** How long the gateway holds a gated call before answering that it waits for a reviewer. Default 150 s. */
  readonly holdFor?: Duration;
}

/** The lab's whole system: gateway, gate, the ops-tools MCP server and both agents. */
export class HitlStack extends Chart {
  readonly platform: HitlPlatform;
  readonly opsTools: GatedMcpServer;

  constructor(scope: Construct, id: string, props: HitlStackProps) {
    super(scope, id, props);
    const gateway: GatewayRef = props.gateway ? existingGateway(props.gateway.name, props.gateway.namespace) : new AgentGateway(this, 'gateway');
    this.platform = new HitlPlatform(this, 'platform', {
      image: props.image,
      gateway,
      reviewerTokens: { secretName: 'hitl-reviewer-tokens' },
      sessionSecret: { name: 'hitl-ui-session', key: 'secret' },
      approvalKeys: { privateKeySecret: 'hitl-approval-key', publicKeySecret: 'hitl-approval-verify-key' },
      holdFor: props.holdFor,
    });
    this.opsTools = new GatedMcpServer(this, 'ops-tools', {
      image: props.image,
      gate: this.platform,
      userApprovalVerifyKey: { name: 'hitl-user-approval-verify-key', key: 'public.pem' },
    });
    this.platform.addReviewerUi(this.opsTools);
    new DeclarativeAgent(this, 'dba-assistant', { modelConfig: props.modelConfig ?? 'default-model-config', servers: [this.opsTools] });
    new ByoAgent(this, 'dba-assistant-langgraph', {
      image: props.image,
      gateway,
      gate: this.platform,
      anthropicApiKey: { name: 'kagent-anthropic', key: 'ANTHROPIC_API_KEY' },
      userApprovalKey: { name: 'hitl-user-approval-key', key: 'private.pem' },
    });
  }
}
