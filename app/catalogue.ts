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
  readonly name: string;
  readonly title: string;
  readonly tier: Tier;
  readonly description: string;
  readonly annotations: Readonly<ToolAnnotations>;
  /** What a reviewer's card shows beside the call: the SQL a migration would run, read from the MCP server. */
  readonly preview?: 'migration-plan';
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

export const catalogue = [
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
    preview: 'migration-plan',
  },
] as const satisfies readonly CatalogueEntry[];

/** The project's tools, by name: a tool the catalogue does not declare is a compile error wherever one is named. */
export type ToolName = (typeof catalogue)[number]['name'];

/** One tool's entry, typed exactly as declared: each tool's implementation opens with it. */
export function catalogueEntry<Name extends ToolName>(name: Name): Extract<(typeof catalogue)[number], { name: Name }> {
  return catalogue.find((tool) => tool.name === name) as Extract<(typeof catalogue)[number], { name: Name }>;
}

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

/** The tools whose review card shows `preview`. */
export function toolsPreviewing(preview: NonNullable<CatalogueEntry['preview']>, tools: readonly CatalogueEntry[] = catalogue): string[] {
  return tools.filter((tool) => tool.preview === preview).map((tool) => tool.name);
}

/** Who approves a call of each tier, as the agent's description tells its users. */
const approvalByTier: Record<Tier, string> = {
  open: 'no approval',
  user: 'you approve it in the chat',
  platform: 'a platform reviewer approves it',
  both: 'you, then a platform reviewer, approve it',
};

/**
 * The assistant's one-line description (its A2A card, its kagent Agent): each tool by its
 * title and who approves it, so adding a tool or moving it to another tier updates it.
 */
export function assistantDescription(tools: readonly CatalogueEntry[] = catalogue): string {
  return `DBA assistant for the orders database: ${tools.map((t) => `${t.title.toLowerCase()} (${approvalByTier[t.tier]})`).join('; ')}.`;
}

/**
 * The assistant's instructions, naming the tools by what the catalogue says of them, so the
 * prompt cannot drift from the tools it is given: read-only ones to answer questions,
 * destructive ones only when asked.
 */
export function assistantPrompt(tools: readonly CatalogueEntry[] = catalogue): string {
  const names = (keep: (t: CatalogueEntry) => boolean) => {
    const picked = tools.filter(keep).map((t) => t.name);
    return picked.length > 1 ? `${picked.slice(0, -1).join(', ')} and ${picked.at(-1)}` : picked.join('');
  };
  return [
    'You are a database assistant for the orders database.',
    `Use ${names((t) => t.annotations.readOnlyHint)} to answer questions; use ${names((t) => t.annotations.destructiveHint)} only when the user asks for them.`,
    'Some tools wait for a human approval. If a call is rejected or denied, tell the user the reason exactly as given and do not retry it.',
  ].join(' ');
}
