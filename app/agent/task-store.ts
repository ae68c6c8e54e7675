/**
 * A2A tasks kept in the agent's database, so a task paused for approval is still there, in
 * `input-required`, after the agent restarts.
 */
import { Task } from '@a2a-js/sdk';
import type { ListTasksRequest, ListTasksResponse } from '@a2a-js/sdk';
import type { TaskStore } from '@a2a-js/sdk/server';
import type { Sql } from '../shared/sql.js';

export class SqlTaskStore implements TaskStore {
  /** Expects the agent's tables (createAgentTables). */
  constructor(private readonly sql: Sql) {}

  async save(task: Task): Promise<void> {
    await this.sql.query(
      `INSERT INTO agent_tasks (id, task) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET task = EXCLUDED.task, updated_at = now()`,
      [task.id, JSON.stringify(Task.toJSON(task))],
    );
  }

  async load(taskId: string): Promise<Task | undefined> {
    const { rows } = await this.sql.query<{ task: string }>(`SELECT task FROM agent_tasks WHERE id = $1`, [taskId]);
    return rows.length ? Task.fromJSON(JSON.parse(rows[0].task)) : undefined;
  }

  /** Newest first, one page; a conversation's tasks when a contextId is given. */
  async list(params: ListTasksRequest): Promise<ListTasksResponse> {
    const pageSize = Math.min(Math.max(params.pageSize ?? 50, 1), 100);
    const { rows } = await this.sql.query<{ task: string }>(
      `SELECT task FROM agent_tasks WHERE $1 = '' OR task::json->>'contextId' = $1 ORDER BY updated_at DESC LIMIT $2`,
      [params.contextId ?? '', pageSize],
    );
    const tasks = rows.map((r) => Task.fromJSON(JSON.parse(r.task)));
    return { tasks, nextPageToken: '', pageSize, totalSize: tasks.length };
  }
}
