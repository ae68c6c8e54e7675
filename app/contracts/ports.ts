/**
 * The ports the services listen on unless told otherwise, so also the addresses each reaches
 * the others at by default. Written once, here: each subcommand's port flags default to them,
 * and `hitl dev` and the constructs read those flags rather than repeat a number.
 */
export const DEFAULT_PORTS = {
  mcp: 8080,
  gateway: 8000,
  extAuthGrpc: 9001,
  extAuthAdmin: 8081,
  ui: 8090,
  agent: 8070,
} as const;

/** kagent reaches every BYO agent on this port: kagent's choice, not ours. */
export const KAGENT_AGENT_PORT = 8080;

/** Where a service on this machine listens by default. */
export const localUrl = (port: number) => `http://127.0.0.1:${port}`;
