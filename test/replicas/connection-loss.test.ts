import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { admin, checkRequest, extAuthConfig, grpcClient, startGate, toolCall } from '../helpers/ext-auth.js';
import { freshDatabase, onPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/temp.js';

/** A TCP relay to PostgreSQL that the test can cut and restore, as a network would. */
function relay(target: URL) {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const open = (port: number) =>
    new Promise<number>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => resolve((server!.address() as { port: number }).port));
    });
  return {
    open,
    cut: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server!.close(() => resolve());
      }),
  };
}

onPostgres(test)('PostgreSQL lost: readiness fails, new tool calls are denied, a parked call waits and resumes', async () => {
  const db = await freshDatabase('hitl_loss');
  const direct = new URL(db.url);
  const link = relay(direct);
  const port = await link.open(0);
  const viaRelay = new URL(db.url);
  viaRelay.host = `127.0.0.1:${port}`;
  const dir = tempDir('loss');
  const ext = await startGate(extAuthConfig(dir.path, { databaseUrl: viaRelay.toString() }));
  const client = grpcClient(ext.grpcPort);

  // Cut only once the park is acknowledged: the change feed can report it before the parking
  // connection has read its commit's answer, and a cut in between rightly fails the call closed.
  const holding = new Promise<string>((resolve) => ext.gate.once('holding', resolve));
  const held = client.check(checkRequest({ body: toolCall('run_migration', { version: 'v3' }) }));
  const id = await holding;

  await link.cut();
  assert.is((await fetch(`${ext.adminUrl}/readyz`)).status, 503);
  const refused = await client.check(checkRequest({ body: toolCall('run_migration', { version: 'v4' }) })).result;
  assert.equal([refused.code, refused.httpStatus], [14, 503]);
  assert.match(refused.body.reason, /approval gate unavailable/);

  await link.open(port);
  assert.is((await fetch(`${ext.adminUrl}/readyz`)).status, 200);
  assert.is((await admin(ext.adminUrl, 'bob').decide(id, true, 'after the outage')).status, 204);
  const answer = await held.result;
  assert.equal([answer.code, answer.headers['x-hitl-approved-by']], [0, 'bob']);

  client.close();
  await ext.close();
  await link.cut();
  await db.drop();
  dir.remove();
});

onPostgres(test)('a decision another replica took while this one was cut off reaches its held call once the link is back', async () => {
  const db = await freshDatabase('hitl_loss_feed');
  const link = relay(new URL(db.url));
  const port = await link.open(0);
  const viaRelay = new URL(db.url);
  viaRelay.host = `127.0.0.1:${port}`;
  const dir = tempDir('loss-feed');
  const cutOff = await startGate(extAuthConfig(dir.path, { databaseUrl: viaRelay.toString() }));
  const other = await startGate(extAuthConfig(dir.path, { databaseUrl: db.url }));
  const client = grpcClient(cutOff.grpcPort);
  try {
    const holding = new Promise<string>((resolve) => cutOff.gate.once('holding', resolve));
    const held = client.check(checkRequest({ body: toolCall('run_migration', { version: 'v5' }) }));
    const id = await holding;

    // The decision commits while the holding replica hears nothing: its notification is lost
    // to it, and only a look at its held calls when its feed is back can release this one.
    await link.cut();
    assert.is((await admin(other.adminUrl, 'bob').decide(id, true, 'while the link was down')).status, 204);
    await link.open(port);
    const answer = await held.result;
    assert.equal([answer.code, answer.headers['x-hitl-approval-id'], answer.headers['x-hitl-approved-by']], [0, id, 'bob']);
  } finally {
    client.close();
    await cutOff.close();
    await other.close();
    await link.cut();
    await db.drop();
    dir.remove();
  }
});

test.run();
