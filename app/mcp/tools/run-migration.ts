import { z } from 'zod';
import { catalogueEntry } from '../../catalogue.js';
import { versions } from '../db/migrations.js';
import { defineTool } from './tool.js';

/** Tier, description and annotations: what the catalogue declares of this tool. */
export const entry = catalogueEntry('run_migration');

export const runMigration = defineTool({
  name: entry.name,
  inputSchema: {
    version: z.string().min(1).max(16).describe(`Target schema version: one of ${versions.join(', ')}`),
  },
  handler: ({ version }, { db, call }) => db.migrate(version, call),
});
