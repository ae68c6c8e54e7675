export { ByoAgent, DeclarativeAgent, type ByoAgentProps, type DeclarativeAgentProps } from './agents.js';
export { REQUESTER_HEADER } from '../app/contracts/headers.js';
export { AgentGateway, existingGateway, fromGateway, type AgentGatewayProps, type GatewayRef } from './gateway.js';
export { GatedMcpServer, MIN_FORWARDED_BODY, type ApprovalRule, type McpRemote, type GatedMcpServerProps } from './gated-mcp-server.js';
export { HitlPlatform, type HitlPlatformProps } from './platform.js';
export { HARDENED, HitlWorkload, NON_ROOT_USER, ServicePort, type HitlImage, type SecretKeyRef } from './workload.js';
export { HitlStack, type HitlStackProps } from './stack.js';
