/**
 * The deployable API: typed constructs that read like the architecture diagram.
 *
 * Naming: a construct is `<Qualifier><Thing>`. The Thing is what it adds to the diagram (Agent,
 * McpServer, Gateway, Platform, Stack, Workload); the Qualifier says which one: kagent's agent
 * type (Declarative, Byo), what guards it (Gated), whose product it is (Agent for agentgateway),
 * or Hitl for this project's own parts that no other system names (the platform, the stack, the
 * workload running `hitl`). Acronyms are written as words (Mcp, Byo); a construct's props are
 * `<Construct>Props`. Values that are not constructs are named for what they hold (ServicePort,
 * GatewayRef, HitlImage, SecretKeyRef).
 */
export { ByoAgent, DeclarativeAgent, type ByoAgentProps, type DeclarativeAgentProps } from './agents.js';
export { REQUESTER_HEADER } from '../app/contracts/headers.js';
export { AgentGateway, existingGateway, fromGateway, type AgentGatewayProps, type GatewayRef } from './gateway.js';
export { GatedMcpServer, MIN_FORWARDED_BODY, type ApprovalRule, type McpRemote, type GatedMcpServerProps } from './gated-mcp-server.js';
export { HitlPlatform, type HitlPlatformProps } from './platform.js';
export { HARDENED, HitlWorkload, NON_ROOT_USER, ServicePort, type HitlImage, type HitlWorkloadProps, type SecretKeyRef } from './workload.js';
export { HitlStack, type HitlStackProps } from './stack.js';
