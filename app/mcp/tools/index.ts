import { catalogue, endpointOf, findTool, type EndpointName } from '../../catalogue.js';
import { clusterDbQuery } from './cluster-db-query.js';
import { runMigration } from './run-migration.js';
import { truncateTable } from './truncate-table.js';
import type { ToolDefinition } from './tool.js';

export const tools: readonly ToolDefinition<any>[] = [clusterDbQuery, truncateTable, runMigration];

/** Every implemented tool is in the catalogue and every catalogued tool is implemented. */
export function checkAgainstCatalogue(): void {
  const implemented = new Set(tools.map((t) => t.name));
  const missing = catalogue.filter((entry) => !implemented.has(entry.name)).map((e) => e.name);
  const unknown = tools.filter((t) => !findTool(t.name)).map((t) => t.name);
  if (missing.length || unknown.length) {
    throw new Error(`tool catalogue mismatch: not implemented [${missing}], not catalogued [${unknown}]`);
  }
}

export function toolsFor(endpoint: EndpointName): ToolDefinition<any>[] {
  return tools.filter((tool) => endpointOf(findTool(tool.name)!.tier).name === endpoint);
}
