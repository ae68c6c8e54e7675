import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { offlineTurn, planFor } from '../../app/agent/offline-model.js';

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

test.run();
