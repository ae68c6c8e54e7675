import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assistantDescription, catalogue, catalogueEntry, endpointOf, needsPlatformApproval, needsUserApproval, toolsOn } from '../../app/catalogue.js';
import { tools, toolsFor } from '../../app/mcp/tools/index.js';

test('each tier lands on the endpoint the gateway gates for it', () => {
  assert.is(endpointOf('open').path, '/public/mcp');
  assert.is(endpointOf('user').path, '/public/mcp');
  assert.is(endpointOf('platform').path, '/privileged/mcp');
  assert.is(endpointOf('both').path, '/privileged/mcp');
});

test('approval rules per tier', () => {
  assert.equal(
    (['open', 'user', 'platform', 'both'] as const).map((t) => [needsUserApproval(t), needsPlatformApproval(t)]),
    [[false, false], [true, false], [false, true], [true, true]],
  );
});

test('the lab story: the three tools and their tiers', () => {
  assert.equal(toolsOn('public').map((t) => t.name), ['cluster_db_query', 'truncate_table']);
  assert.equal(toolsOn('privileged').map((t) => t.name), ['run_migration']);
});

test('every catalogued tool is implemented and served where its tier says', () => {
  assert.equal(toolsFor('public').map((t) => t.name), toolsOn('public').map((t) => t.name));
  assert.equal(toolsFor('privileged').map((t) => t.name), toolsOn('privileged').map((t) => t.name));
});

test('annotations agree with the tier: only open tools are read-only', () => {
  for (const tool of catalogue) {
    assert.is(tool.annotations.readOnlyHint, tool.tier === 'open', tool.name);
    assert.is(tool.annotations.destructiveHint, !tool.annotations.readOnlyHint, tool.name);
  }
});

test('the registry is the catalogue as a type: a missing, an extra or a misfiled tool does not compile', () => {
  const { run_migration: _left, ...withoutOne } = tools;
  // @ts-expect-error run_migration is catalogued, so the registry must implement it
  const missing: typeof tools = withoutOne;
  // @ts-expect-error drop_database is not catalogued, so no implementation may be filed under it
  const extra: typeof tools = { ...tools, drop_database: tools.cluster_db_query };
  // @ts-expect-error each implementation sits under its own name
  const misfiled: typeof tools = { ...tools, run_migration: tools.truncate_table };
  assert.equal(Object.keys(tools).sort(), catalogue.map((t) => t.name).sort());
});

test('each tool opens with its own catalogue entry', () => {
  for (const tool of Object.values(tools)) assert.is(catalogueEntry(tool.name), catalogue.find((t) => t.name === tool.name), tool.name);
  assert.is(catalogueEntry('run_migration').tier, 'platform');
});

test('the assistant describes each tool by its catalogue title and who approves it', () => {
  assert.is(
    assistantDescription(),
    'DBA assistant for the orders database: query the orders database (no approval); delete every row of a table (you approve it in the chat); ' +
      'migrate the shared schema (a platform reviewer approves it).',
  );
  const both = { ...catalogue[2], tier: 'both' as const };
  assert.is(assistantDescription([both]), 'DBA assistant for the orders database: migrate the shared schema (you, then a platform reviewer, approve it).');
});

test.run();
