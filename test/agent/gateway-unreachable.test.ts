import { createServer } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GatewayTools } from '../../app/agent/gateway-tools.js';
import { createLogger } from '../../app/shared/log.js';

test('an agent that never reaches the gateway stops with a clear error after retrying', async () => {
  // A port that was just free and is closed again: nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const warnings: unknown[] = [];
  const log = createLogger('agent', 'silent');
  log.warn = ((obj: unknown) => void warnings.push(obj)) as typeof log.warn;
  const error = await GatewayTools.connect({
    gatewayUrl: `http://127.0.0.1:${port}`,
    agentName: 'dba-assistant-under-test',
    requesterHeader: 'x-user-id',
    callTimeoutMs: 1_000,
    connectForMs: 1_500,
    log,
  }).then(() => undefined, (err: Error) => err);
  assert.ok(error, 'it gives up');
  assert.match(error!.message, new RegExp(`cannot reach the MCP endpoint http://127.0.0.1:${port}/public/mcp through the gateway`));
  assert.ok(warnings.length >= 2, 'it retried with backoff before giving up');
});

test.run();
