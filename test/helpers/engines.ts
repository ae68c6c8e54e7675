import { join } from 'node:path';
import { openDatabase, type Sql } from '../../app/shared/sql.js';
import { seedEmbeddedDataDir } from './embedded-db.js';
import { freshDatabase } from './postgres.js';
import { tempDir } from './temp.js';

/** The two engines every store query must run on unchanged. */
export type Engine = 'embedded' | 'postgres';

/**
 * An empty database of `engine` for one suite (`name` prefixes a PostgreSQL database), open.
 * `open` connects to it again, as another replica would; `close` closes the first connection
 * and removes the database.
 */
export async function openEngine(engine: Engine, name: string): Promise<{ sql: Sql; open(): Promise<Sql>; close(): Promise<void> }> {
  const dir = tempDir(`${name}-${engine}`);
  const db = engine === 'postgres' ? await freshDatabase(name) : null;
  if (!db) await seedEmbeddedDataDir(join(dir.path, 'data'));
  const open = () => openDatabase({ dataDir: join(dir.path, 'data'), databaseUrl: db?.url });
  const sql = await open();
  return {
    sql,
    open,
    async close() {
      await sql.close();
      await db?.drop();
      dir.remove();
    },
  };
}
