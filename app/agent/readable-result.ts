/**
 * Tool results as the offline model says them in the chat. Query rows become a Markdown table,
 * which the chat page (and kagent's dashboard) draw as a table; a migration or a truncation
 * becomes one sentence. A result of any other shape is left for the caller to pass on as is.
 */

/** The most rows shown in the chat; the rest are counted, not listed. */
export const SHOWN_ROWS = 10;

interface QueryResult {
  rows: Record<string, unknown>[];
  truncated: boolean;
  schema_version: string;
}

interface MigrationResult {
  migrated: boolean;
  from: string;
  to: string;
}

interface TruncationResult {
  truncated: string;
  rows_deleted: number;
}

/** The words for a tool's JSON result, or undefined when its shape is not one of these. */
export function readableResult(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (isQuery(value)) return queryAnswer(value);
  if (isMigration(value)) {
    return value.migrated ? `The schema migrated ${value.from} → ${value.to}.` : `The schema was already at ${value.to}, so nothing changed.`;
  }
  if (isTruncation(value)) return `Truncated ${value.truncated}: ${plural(value.rows_deleted, 'row')} deleted.`;
  return undefined;
}

function queryAnswer({ rows, truncated, schema_version }: QueryResult): string {
  if (rows.length === 0) return `Schema ${schema_version}: the query returned no rows.`;
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const shown = rows.slice(0, SHOWN_ROWS);
  const table = [
    markdownRow(columns),
    markdownRow(columns.map(() => '---')),
    ...shown.map((row) => markdownRow(columns.map((column) => cell(row[column])))),
  ].join('\n');
  const count = truncated ? `the first ${plural(rows.length, 'row')} (the server returns no more than that)` : plural(rows.length, 'row');
  const lines = [`Schema ${schema_version}: ${count}.`, '', table];
  const more = rows.length - shown.length;
  if (more > 0) lines.push('', `…and ${plural(more, 'more row')}.`);
  return lines.join('\n');
}

const markdownRow = (cells: string[]) => `| ${cells.join(' | ')} |`;

/** One value as a table cell: on one line, with the column separator escaped. */
function cell(value: unknown): string {
  const text = value === null || value === undefined ? 'NULL' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\s*[\r\n]+\s*/g, ' ');
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function isQuery(value: unknown): value is QueryResult {
  const v = value as QueryResult;
  return typeof v === 'object' && v !== null && Array.isArray(v.rows) && v.rows.every((r) => typeof r === 'object' && r !== null) && typeof v.schema_version === 'string';
}

function isMigration(value: unknown): value is MigrationResult {
  const v = value as MigrationResult;
  return typeof v === 'object' && v !== null && typeof v.migrated === 'boolean' && typeof v.from === 'string' && typeof v.to === 'string';
}

function isTruncation(value: unknown): value is TruncationResult {
  const v = value as TruncationResult;
  return typeof v === 'object' && v !== null && typeof v.truncated === 'string' && typeof v.rows_deleted === 'number';
}
