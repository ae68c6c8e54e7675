import { z } from 'zod';
import { catalogueEntry } from '../../catalogue.js';
import { TABLES } from '../db/orders.js';
import { defineTool } from './tool.js';

/** Tier, description and annotations: what the catalogue declares of this tool. */
export const entry = catalogueEntry('truncate_table');

export const truncateTable = defineTool({
  name: entry.name,
  inputSchema: {
    table: z.string().min(1).max(63).describe(`The table to empty: one of ${TABLES.join(', ')}`),
  },
  handler: ({ table }, { db, call }) => db.truncate(table, call),
});
