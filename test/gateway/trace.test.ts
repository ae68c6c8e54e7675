import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { admin, nextChange } from '../helpers/ext-auth.js';
import { connectClient, toolJson } from '../helpers/mcp.js';
import { startStack } from '../helpers/stack.js';

const CLIENT_TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

test('a traceparent goes from the Check through the approval to the MCP server\'s audit row', async () => {
  const stack = await startStack();
  try {
    // The agent's own trace, and a forged trace header the gateway must not let through.
    const client = await connectClient(`${stack.gatewayUrl}/privileged/mcp`, {
      'x-user-id': 'alice',
      traceparent: CLIENT_TRACE,
      'x-hitl-traceparent': '00-11111111111111111111111111111111-2222222222222222-01',
    });
    const parked = nextChange(stack.ext.gate, (c) => c.type === 'parked');
    const call = client.callTool({ name: 'run_migration', arguments: { version: 'v3' } });
    const { id } = await parked;
    const request = await (await admin(stack.ext.adminUrl, 'bob').get(`/requests/${id}`)).json();
    const [, traceId, spanId] = request.traceparent.split('-');
    assert.is(traceId, CLIENT_TRACE.split('-')[1], 'the gateway\'s span is in the agent\'s trace');
    assert.is.not(spanId, CLIENT_TRACE.split('-')[2], 'and is the gateway\'s own span');

    assert.is((await admin(stack.ext.adminUrl, 'bob').decide(id, true, 'traced')).status, 204);
    assert.equal(toolJson(await call).migrated, true);
    await client.close();
    const { audit } = await (await fetch(`${stack.mcp.url}/state`)).json();
    assert.equal([audit[0].approval_id, audit[0].traceparent], [id, request.traceparent], 'the audit row names the approval and its trace');
  } finally {
    await stack.close();
  }
});

test.run();
