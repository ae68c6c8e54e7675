/**
 * The model used when no Anthropic key is set: deterministic, offline, and honest about
 * being a script. It understands the four scene prompts and a few simple requests, picks
 * the tool a real model would, and reports denials verbatim and results readably: rows as a
 * table, a migration or a truncation as a sentence.
 */
import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import { randomUUID } from 'node:crypto';
import type { GateDetails } from '../contracts/denial.js';
import type { AgentModel } from './graph.js';
import { readableResult } from './readable-result.js';

export const OFFLINE_NOTICE = '(offline model: set ANTHROPIC_API_KEY for a real one)';

const HELP =
  `I am the offline scripted model ${OFFLINE_NOTICE}. I can: show the orders table, list tables, ` +
  'count rows in a table, truncate a table, and apply migration vN.';

interface PlannedCall {
  name: string;
  args: Record<string, unknown>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** The tool call a prompt asks for, or undefined when it asks for none the script knows. */
export function planFor(prompt: string): PlannedCall | undefined {
  const text = prompt.toLowerCase().replace(/[?.!]+$/g, '').trim();
  const migration = /\b(?:apply|run|migrate)\b.*?\bv(\d+)\b/.exec(text);
  if (migration) return { name: 'run_migration', args: { version: `v${migration[1]}` } };
  const truncate = /\b(?:truncate|empty|clear)\s+(?:the\s+)?([a-z_][a-z0-9_]*)/.exec(text);
  if (truncate) return { name: 'truncate_table', args: { table: truncate[1] } };
  const count = /\bcount\b.*?\b(?:in|of|from)\s+(?:the\s+)?([a-z_][a-z0-9_]*)/.exec(text);
  if (count && IDENTIFIER.test(count[1])) return { name: 'cluster_db_query', args: { sql: `SELECT count(*) AS rows FROM ${count[1]}` } };
  if (/\blist\b.*\btables\b|\bwhat tables\b/.test(text)) {
    return { name: 'cluster_db_query', args: { sql: `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name` } };
  }
  if (/\borders\b/.test(text)) return { name: 'cluster_db_query', args: { sql: 'SELECT * FROM orders ORDER BY id LIMIT 20' } };
  return undefined;
}

/** One turn: call a tool for a new prompt, or report on the tool result that just came back. */
export function offlineTurn(messages: BaseMessage[], nextCallId: () => string): AIMessage {
  const last = messages.at(-1);
  if (last?.getType() === 'tool') {
    const result = String(last.content);
    const failed = (last as { status?: string }).status === 'error';
    if ((last as { artifact?: GateDetails }).artifact?.status === 'waiting') {
      return new AIMessage(`${result} Ask me to try again once it is approved.`);
    }
    const sentence = /[.!?]$/.test(result) ? result : `${result}.`;
    return new AIMessage(failed ? `The call did not run: ${sentence} I will not retry it.` : (readableResult(result) ?? `Done. ${result}`));
  }
  const prompt = last?.getType() === 'human' ? String(last.content) : '';
  const call = planFor(prompt);
  if (!call) return new AIMessage(HELP);
  return new AIMessage({ content: `Calling ${call.name} ${OFFLINE_NOTICE}.`, tool_calls: [{ ...call, id: nextCallId(), type: 'tool_call' }] });
}

export function offlineModel(): AgentModel {
  return { invoke: async (messages) => offlineTurn(messages, () => `call-${randomUUID()}`) };
}
