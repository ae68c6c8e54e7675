import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { offlineTurn, planFor } from '../../app/agent/offline-model.js';
import { readableResult, SHOWN_ROWS } from '../../app/agent/readable-result.js';

test('the four scene prompts and the simple requests map to the tool a real model would pick', () => {
  const cases: [string, string | undefined, Record<string, unknown> | undefined][] = [
    ["What's in the orders table?", 'cluster_db_query', { sql: 'SELECT * FROM orders ORDER BY id LIMIT 20' }],
    ['Truncate the orders table.', 'truncate_table', { table: 'orders' }],
    ['Apply migration v3.', 'run_migration', { version: 'v3' }],
    ['please run migration v4', 'run_migration', { version: 'v4' }],
    ['count rows in customers', 'cluster_db_query', { sql: 'SELECT count(*) AS rows FROM customers' }],
    ['List tables', 'cluster_db_query', undefined],
    ['tell me a joke', undefined, undefined],
  ];
  for (const [prompt, tool, args] of cases) {
    const plan = planFor(prompt);
    assert.is(plan?.name, tool, prompt);
    if (args) assert.equal(plan!.args, args, prompt);
  }
});

test('a turn calls a tool for a prompt, then reports its result or its denial verbatim', () => {
  const ask = offlineTurn([new HumanMessage('Apply migration v3.')], () => 'call-7');
  assert.equal(ask.tool_calls?.map((c) => [c.name, c.args, c.id]), [['run_migration', { version: 'v3' }, 'call-7']]);
  const denied = offlineTurn([ask, new ToolMessage({ content: 'rejected by reviewer: not before the release', tool_call_id: 'call-7', status: 'error' })], () => 'x');
  assert.ok(String(denied.content).includes('rejected by reviewer: not before the release'));
  assert.ok(String(denied.content).includes('will not retry'));
  assert.is(denied.tool_calls?.length ?? 0, 0, 'no retry');
  const help = offlineTurn([new HumanMessage('hello')], () => 'x');
  assert.ok(String(help.content).includes('offline'), 'says it is the offline model');
  assert.instance(help, AIMessage);
});

const answerTo = (content: string) =>
  String(offlineTurn([new HumanMessage('x'), new AIMessage({ content: '', tool_calls: [{ name: 't', args: {}, id: 'c1', type: 'tool_call' }] }), new ToolMessage({ content, tool_call_id: 'c1' })], () => 'x').content);

test('query rows are answered as a table: every column, one line a row, separators escaped', () => {
  const rows = [
    { id: 1, customer: 'acme', note: 'a | b', extra: null },
    { id: 2, customer: 'globex', note: 'two\nlines', tags: ['x'] },
  ];
  assert.is(
    answerTo(JSON.stringify({ rows, truncated: false, schema_version: 'v2' })),
    [
      'Schema v2: 2 rows.',
      '',
      '| id | customer | note | extra | tags |',
      '| --- | --- | --- | --- | --- |',
      '| 1 | acme | a \\| b | NULL | NULL |',
      '| 2 | globex | two lines | NULL | ["x"] |',
    ].join('\n'),
  );
  assert.is(answerTo(JSON.stringify({ rows: [], truncated: false, schema_version: 'v3' })), 'Schema v3: the query returned no rows.');
});

test('rows past what the chat shows are counted, and a result the server cut says so', () => {
  const rows = Array.from({ length: SHOWN_ROWS + 4 }, (_, i) => ({ n: i }));
  const all = readableResult(JSON.stringify({ rows, truncated: false, schema_version: 'v2' }))!;
  assert.is(all.split('\n').filter((line) => line.startsWith('| ')).length, SHOWN_ROWS + 2, 'header, rule and the rows shown');
  assert.ok(all.endsWith('\n\n…and 4 more rows.'), all);
  const cut = readableResult(JSON.stringify({ rows, truncated: true, schema_version: 'v2' }))!;
  assert.ok(cut.startsWith(`Schema v2: the first ${SHOWN_ROWS + 4} rows (the server returns no more than that).`), cut);
  assert.ok(cut.endsWith('…and 4 more rows.'), cut);
  const one = readableResult(JSON.stringify({ rows: rows.slice(0, SHOWN_ROWS + 1), truncated: false, schema_version: 'v2' }))!;
  assert.ok(one.endsWith('…and 1 more row.'), one);
});

test('a migration and a truncation are one sentence; any other result is passed on as it came', () => {
  assert.is(answerTo(JSON.stringify({ migrated: true, from: 'v2', to: 'v3', message: 'migrated v2 → v3 in 1 step(s)' })), 'The schema migrated v2 → v3.');
  assert.is(answerTo(JSON.stringify({ migrated: false, from: 'v3', to: 'v3', message: 'already at v3; nothing to do' })), 'The schema was already at v3, so nothing changed.');
  assert.is(answerTo(JSON.stringify({ truncated: 'orders', rows_deleted: 1 })), 'Truncated orders: 1 row deleted.');
  assert.is(answerTo('{"other":true}'), 'Done. {"other":true}');
  assert.is(answerTo('not json'), 'Done. not json');
});

test.run();
