/**
 * Durable LangGraph checkpoints: LangGraph's own MemorySaver semantics, with each thread's
 * checkpoints and pending writes stored as one row in the embedded database or PostgreSQL.
 * A thread is read back before every use, so a task paused for approval survives a restart
 * and any replica sharing the database can resume it.
 */
import { MemorySaver, type Checkpoint, type CheckpointListOptions, type CheckpointMetadata, type PendingWrite } from '@langchain/langgraph-checkpoint';
import type { RunnableConfig } from '@langchain/core/runnables';
import type { Sql } from '../shared/sql.js';

type ThreadRecord = { storage: MemorySaver['storage'][string]; writes: MemorySaver['writes'] };

export class DurableCheckpointer extends MemorySaver {
  /**
   * Writes in the order they were asked for: LangGraph does not wait for one put before the
   * next, and on a connection pool an older snapshot could otherwise land last.
   */
  private writing: Promise<void> = Promise.resolve();

  /** Expects the agent's tables (createAgentTables). */
  constructor(private readonly sql: Sql) {
    super();
  }

  override async getTuple(config: RunnableConfig) {
    await this.load(config.configurable?.thread_id);
    return super.getTuple(config);
  }

  override async *list(config: RunnableConfig, options?: CheckpointListOptions) {
    await this.load(config.configurable?.thread_id);
    yield* super.list(config, options);
  }

  override async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata) {
    const saved = await super.put(config, checkpoint, metadata);
    await this.save(config.configurable?.thread_id);
    return saved;
  }

  override async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string) {
    await super.putWrites(config, writes, taskId, taskPath);
    await this.save(config.configurable?.thread_id);
  }

  override async deleteThread(threadId: string) {
    await super.deleteThread(threadId);
    await this.sql.query(`DELETE FROM agent_threads WHERE thread_id = $1`, [threadId]);
  }

  private async load(threadId: unknown): Promise<void> {
    if (typeof threadId !== 'string') return;
    await this.writing;
    const { rows } = await this.sql.query<{ state: string }>(`SELECT state FROM agent_threads WHERE thread_id = $1`, [threadId]);
    if (!rows.length) return;
    const record = JSON.parse(rows[0].state, revive) as ThreadRecord;
    // JSON turns a missing parent id into null; MemorySaver tells "no parent" by undefined.
    for (const checkpoints of Object.values(record.storage)) {
      for (const entry of Object.values(checkpoints)) entry[2] ??= undefined;
    }
    this.storage[threadId] = record.storage;
    Object.assign(this.writes, record.writes);
  }

  private save(threadId: unknown): Promise<void> {
    if (typeof threadId !== 'string') return Promise.resolve();
    const write = this.writing.then(() => this.write(threadId));
    this.writing = write.catch(() => undefined);
    return write;
  }

  /** Stores the thread as it is when the write runs, so the last write holds the latest state. */
  private async write(threadId: string): Promise<void> {
    // MemorySaver keys writes by JSON [thread, namespace, checkpoint]; keep this thread's.
    const writes = Object.fromEntries(Object.entries(this.writes).filter(([key]) => JSON.parse(key)[0] === threadId));
    const state = JSON.stringify({ storage: this.storage[threadId], writes } satisfies ThreadRecord, replace);
    await this.sql.query(
      `INSERT INTO agent_threads (thread_id, state) VALUES ($1, $2)
       ON CONFLICT (thread_id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
      [threadId, state],
    );
  }
}

// Serialized checkpoints are bytes; JSON carries them as base64.
function replace(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? { $bytes: Buffer.from(value).toString('base64') } : value;
}

function revive(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && '$bytes' in value && Object.keys(value).length === 1) {
    return new Uint8Array(Buffer.from((value as { $bytes: string }).$bytes, 'base64'));
  }
  return value;
}
