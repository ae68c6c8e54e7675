import { z } from 'zod';
import { catalogueEntry } from '../../catalogue.js';
import { defineTool } from './tool.js';

const MAX_SQL_LENGTH = 10_000;

/** Tier, description and annotations: what the catalogue declares of this tool. */
export const entry = catalogueEntry('cluster_db_query');

export const clusterDbQuery = defineTool({
  name: entry.name,
  inputSchema: {
    sql: z.string().min(1).max(MAX_SQL_LENGTH).describe('One SELECT or VALUES statement, e.g. SELECT * FROM orders'),
  },
  handler: ({ sql }, { db }) => db.query(sql),
});
