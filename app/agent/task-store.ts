/**
 * A2A tasks kept in the agent's database, so a task paused for approval is still there, in
 * `input-required`, after the agent restarts. Each task belongs to the user who created it:
 * every read is scoped to the caller, so another user's task is simply not there (not
 * "forbidden", which would tell them it exists), and a task from before owners were recorded
 * belongs to nobody.
 */
import { Task } from '@a2a-js/sdk';
import type { ListTasksRequest, ListTasksResponse } from '@a2a-js/sdk';
import type { ServerCallContext, TaskStore } from '@a2a-js/sdk/server';
import type { Sql } from '../shared/sql.js';
import { ownerOf } from './caller-identity.js';

export class SqlTaskStore implements TaskStore {
  /** Expects the agent's tables (createAgentTables). */
  constructor(private readonly sql: Sql) {}

  /** Creates the task for the caller, or updates it if it is theirs; never takes over another's. */
  async save(task: Task, context: ServerCallContext): Promise<void> {
    const owner = ownerOf(context);
    if (!owner) throw new Error('a task is saved only for an identified caller');
    const { rowCount } = await this.sql.query(
      `INSERT INTO agent_tasks (id, owner, task) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET task = EXCLUDED.task, updated_at = now() WHERE agent_tasks.owner = EXCLUDED.owner`,
      [task.id, owner, JSON.stringify(Task.toJSON(task))],
    );
    if (rowCount === 0) throw new Error(`task ${task.id} belongs to another user`);
  }

  async load(taskId: string, context: ServerCallContext): Promise<Task | undefined> {
    const owner = ownerOf(context);
    if (!owner) return undefined;
    const { rows } = await this.sql.query<{ task: string }>(`SELECT task FROM agent_tasks WHERE id = $1 AND owner = $2`, [taskId, owner]);
    return rows.length ? Task.fromJSON(JSON.parse(rows[0].task)) : undefined;
  }

  /** The caller's tasks, newest first, one page; one conversation's when a contextId is given. */
  async list(params: ListTasksRequest, context: ServerCallContext): Promise<ListTasksResponse> {
    const pageSize = Math.min(Math.max(params.pageSize ?? 50, 1), 100);
    const owner = ownerOf(context);
    if (!owner) return { tasks: [], nextPageToken: '', pageSize, totalSize: 0 };
    const { rows } = await this.sql.query<{ task: string }>(
      `SELECT task FROM agent_tasks WHERE owner = $1 AND ($2 = '' OR task::json->>'contextId' = $2) ORDER BY updated_at DESC LIMIT $3`,
      [owner, params.contextId ?? '', pageSize],
    );
    const tasks = rows.map((r) => Task.fromJSON(JSON.parse(r.task)));
    return { tasks, nextPageToken: '', pageSize, totalSize: tasks.length };
  }
}
