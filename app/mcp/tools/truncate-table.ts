import { z } from 'zod';
import { TABLES } from '../db/orders.js';
import { defineTool } from './tool.js';

export const truncateTable = defineTool({
  name: 'truncate_table',
  inputSchema: {
    table: z.string().min(1).max(63).describe(`The table to empty: one of ${TABLES.join(', ')}`),
  },
  handler: ({ table }, { db, call }) => db.truncate(table, call),
});
