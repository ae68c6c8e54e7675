/**
 * The one declaration of every tool's risk tier.
 *
 * Everything that decides who approves a tool reads this module: the MCP server mounts each
 * tool on the endpoint its tier demands, the deploy constructs derive the HTTPRoutes, the
 * extAuth policy and kagent's `requireApproval` from it, and the BYO agent derives its
 * interrupt list from it. It has no dependencies so every one of them can import it.
 */

/** Who must approve a call: nobody, the end user in the chat, a platform reviewer, or both. */
export type Tier = 'open' | 'user' | 'platform' | 'both';

/** The MCP endpoint a tool is served on. The gateway gates the privileged one. */
export type EndpointName = 'public' | 'privileged';

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

export interface CatalogueEntry {
  name: string;
  title: string;
  tier: Tier;
  description: string;
  annotations: ToolAnnotations;
}

export interface Endpoint {
  name: EndpointName;
  /** Path prefix the gateway routes on (an HTTPRoute PathPrefix). */
  prefix: string;
  /** Full path of the Streamable HTTP MCP endpoint. */
  path: string;
}

export const endpoints: Record<EndpointName, Endpoint> = {
  public: { name: 'public', prefix: '/public', path: '/public/mcp' },
  privileged: { name: 'privileged', prefix: '/privileged', path: '/privileged/mcp' },
};

export const catalogue: readonly CatalogueEntry[] = [
  {
    name: 'cluster_db_query',
    title: 'Query the orders database',
    tier: 'open',
    description:
      'Run one read-only SQL query (SELECT or VALUES) against the orders database. ' +
      'Returns the rows and the current schema version.',
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  },
  {
    name: 'truncate_table',
    title: 'Delete every row of a table',
    tier: 'user',
    description: 'Delete every row of one table of the orders database. The user who asked must approve it.',
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  },
  {
    name: 'run_migration',
    title: 'Migrate the shared schema',
    tier: 'platform',
    description:
      'Migrate the shared orders schema up or down to a version (v1..v4). ' +
      'A platform reviewer must approve it; the call waits until they decide.',
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  },
];

export function endpointOf(tier: Tier): Endpoint {
  return tier === 'platform' || tier === 'both' ? endpoints.privileged : endpoints.public;
}

export function needsUserApproval(tier: Tier): boolean {
  return tier === 'user' || tier === 'both';
}

export function needsPlatformApproval(tier: Tier): boolean {
  return tier === 'platform' || tier === 'both';
}

export function toolsOn(endpoint: EndpointName, tools: readonly CatalogueEntry[] = catalogue): CatalogueEntry[] {
  return tools.filter((tool) => endpointOf(tool.tier).name === endpoint);
}

export function findTool(name: string, tools: readonly CatalogueEntry[] = catalogue): CatalogueEntry | undefined {
  return tools.find((tool) => tool.name === name);
}
