import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../app/shared/flags.js';
import { checkRequest, grpcClient, nextChange, TOKENS, toolCall } from '../helpers/ext-auth.js';
import { startUiStack } from '../helpers/ui.js';

interface Delivery {
  headers: IncomingMessage['headers'];
  body: string;
  answered: number;
}

/** A webhook receiver on loopback that refuses the first delivery, to make the sender retry. */
async function flakyReceiver() {
  const deliveries: Delivery[] = [];
  let accepted: (d: Delivery) => void;
  const acceptedOnce = new Promise<Delivery>((resolve) => (accepted = resolve));
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const answered = deliveries.length === 0 ? 503 : 200;
    const delivery = { headers: req.headers, body, answered };
    deliveries.push(delivery);
    res.writeHead(answered).end();
    if (answered === 200) accepted(delivery);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, deliveries, acceptedOnce, close: () => server.close() };
}

test('each new request is announced to the webhook, signed, and retried after a refusal', async () => {
  const receiver = await flakyReceiver();
  const secret = 'webhook-secret';
  const stack = await startUiStack({
    notifyUrl: receiver.url,
    notifySecret: secret,
    // A reader without the platform group: it can follow the queue but could never approve.
    notifyToken: TOKENS.dave,
    publicUrl: 'https://approvals.example.com',
  });
  const grpc = grpcClient(stack.ext.grpcPort);
  try {
    const parked = nextChange(stack.ext.gate, (c) => c.type === 'parked');
    const call = grpc.check(checkRequest({ body: toolCall('run_migration', { version: 'v3' }) }));
    call.result.catch(() => undefined);
    const { id } = await parked;

    const delivery = await receiver.acceptedOnce;
    assert.is(receiver.deliveries.length, 2, 'refused once, delivered on the retry');
    assert.is(receiver.deliveries[0].body, delivery.body, 'the retry carries the same message');

    const timestamp = String(delivery.headers['x-hitl-timestamp']);
    const expected = `v1=${createHmac('sha256', secret).update(`${timestamp}.${delivery.body}`).digest('hex')}`;
    assert.is(delivery.headers['x-hitl-signature'], expected);
    assert.ok(Math.abs(Date.now() / 1000 - Number(timestamp)) < 300, 'timestamp is current');

    const message = JSON.parse(delivery.body);
    assert.type(message.text, 'string', 'Slack-compatible: a top-level text');
    assert.ok(message.text.includes('run_migration'));
    assert.ok(message.text.includes('alice'));
    assert.ok(message.text.includes(`https://approvals.example.com/requests/${id}`), 'links to the card');
    assert.ok(Array.isArray(message.blocks));
    call.cancel();
  } finally {
    grpc.close();
    await stack.close();
    receiver.close();
  }
});

test('notifications without a signing secret are a configuration error', async () => {
  try {
    await startUiStack({ notifyUrl: 'http://127.0.0.1:9/hook', notifyToken: TOKENS.dave });
    assert.unreachable('should have refused to start');
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.match((err as Error).message, /--notify-secret/);
  }
});

test.run();
