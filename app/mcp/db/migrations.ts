/**
 * The orders schema's versions. Each migration is a real schema change with its reverse;
 * `plan` lists the exact statements that move the schema from one version to another, and
 * the same list is what `run_migration` executes, so a reviewer's preview cannot drift
 * from what is applied.
 */
import type { MigrationStep } from '../../contracts/migration-plan.js';

export interface Migration {
  version: string;
  summary: string;
  up: string[];
  down: string[];
}

export const migrations: readonly Migration[] = [
  {
    version: 'v1',
    summary: 'customers and orders tables',
    up: [
      `CREATE TABLE customers (name text PRIMARY KEY, tier text NOT NULL)`,
      `CREATE TABLE orders (id integer PRIMARY KEY, customer text NOT NULL REFERENCES customers (name), amount numeric(12, 2) NOT NULL, status text NOT NULL)`,
    ],
    down: [`DROP TABLE orders`, `DROP TABLE customers`],
  },
  {
    version: 'v2',
    summary: 'orders.created_at',
    up: [`ALTER TABLE orders ADD COLUMN created_at timestamptz NOT NULL DEFAULT now()`],
    down: [`ALTER TABLE orders DROP COLUMN created_at`],
  },
  {
    version: 'v3',
    summary: 'orders.currency',
    up: [`ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL DEFAULT 'USD'`],
    down: [`ALTER TABLE orders DROP COLUMN currency`],
  },
  {
    version: 'v4',
    summary: 'index on orders.status',
    up: [`CREATE INDEX orders_status_idx ON orders (status)`],
    down: [`DROP INDEX orders_status_idx`],
  },
];

export const versions = migrations.map((m) => m.version);

/** The lowest version `run_migration` may target; going below it would drop the data itself. */
export const floorVersion = 'v1';

/** Steps from `from` (applied, or null for an empty database) to `to`, in order. */
export function plan(from: string | null, to: string): MigrationStep[] {
  const fromIndex = from === null ? -1 : versions.indexOf(from);
  const toIndex = versions.indexOf(to);
  if (toIndex === -1) throw new Error(`unknown version ${to}`);
  if (toIndex >= fromIndex) {
    return migrations
      .slice(fromIndex + 1, toIndex + 1)
      .map((m) => ({ version: m.version, direction: 'up', summary: m.summary, sql: m.up }));
  }
  return migrations
    .slice(toIndex + 1, fromIndex + 1)
    .reverse()
    .map((m) => ({ version: m.version, direction: 'down', summary: m.summary, sql: m.down }));
}
