import { z } from 'zod';
import { versions } from '../db/migrations.js';
import { defineTool } from './tool.js';

export const runMigration = defineTool({
  name: 'run_migration',
  inputSchema: {
    version: z.string().min(1).max(16).describe(`Target schema version: one of ${versions.join(', ')}`),
  },
  handler: ({ version }, { db, call }) => db.migrate(version, call),
});
