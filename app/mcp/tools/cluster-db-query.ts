import { z } from 'zod';
import { defineTool } from './tool.js';

const MAX_SQL_LENGTH = 10_000;

export const clusterDbQuery = defineTool({
  name: 'cluster_db_query',
  inputSchema: {
    sql: z.string().min(1).max(MAX_SQL_LENGTH).describe('One SELECT or VALUES statement, e.g. SELECT * FROM orders'),
  },
  handler: ({ sql }, { db }) => db.query(sql),
});
