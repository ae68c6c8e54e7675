import { catalogue, endpointOf, type EndpointName, type ToolName } from '../../catalogue.js';
import { clusterDbQuery } from './cluster-db-query.js';
import { runMigration } from './run-migration.js';
import { truncateTable } from './truncate-table.js';
import type { ToolDefinition } from './tool.js';

/**
 * Every catalogued tool's implementation, under its own name: a tool missing here, one the
 * catalogue does not declare, or one filed under another tool's name does not compile.
 */
export const tools: { readonly [Name in ToolName]: ToolDefinition<any, Name> } = {
  cluster_db_query: clusterDbQuery,
  truncate_table: truncateTable,
  run_migration: runMigration,
};

/** The implementations served on `endpoint`, in catalogue order. */
export function toolsFor(endpoint: EndpointName): ToolDefinition<any>[] {
  return catalogue.filter((entry) => endpointOf(entry.tier).name === endpoint).map((entry) => tools[entry.name]);
}
