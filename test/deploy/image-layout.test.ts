import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyRuntimePackages } from '../../scripts/runtime-packages.mjs';
import { approveAll, chatClient, isCompleted, replyText } from '../helpers/a2a.js';
import { startBinary } from '../helpers/process.js';
import { tempDir } from '../helpers/temp.js';

const ports = ['--mcp-port', '--gateway-port', '--grpc-port', '--admin-port', '--ui-port', '--agent-port'].flatMap((flag) => [flag, '0']);
const repository = new URL('../..', import.meta.url).pathname;

test("the image's files alone run every service: the bundle, its assets and the runtime packages", async () => {
  // What the Dockerfile puts in /opt/hitl, with nothing of the repository's node_modules beside it.
  const image = tempDir('image-layout');
  cpSync(join(repository, 'dist/hitl.mjs'), join(image.path, 'dist/hitl.mjs'));
  cpSync(join(repository, 'dist/assets'), join(image.path, 'dist/assets'), { recursive: true });
  copyRuntimePackages(repository, image.path);
  const dev = startBinary(['dev', '--data-dir', join(image.path, 'data'), ...ports], { ANTHROPIC_API_KEY: '', NODE_ENV: 'production' }, { binary: join(image.path, 'dist/hitl.mjs') });
  try {
    await dev.waitForLog((l) => String(l.msg).startsWith('Ctrl-C stops everything'));
    const printed = (label: string) => /https?:\/\/[^\s/]+/.exec(dev.logs.map((l) => String(l.msg)).find((m) => m.trimStart().startsWith(label)) ?? '')?.[0];
    const queue = printed('reviewer queue')!;
    for (const asset of ['/assets/htmx.min.js', '/assets/queue.js', '/sign-in']) assert.is((await fetch(`${queue}${asset}`)).status, 200, asset);

    const client = await chatClient(printed('end-user chat')!, '1.0');
    assert.match(replyText(await client.send("What's in the orders table?")), /acme/, 'a query through the gateway, on the embedded database');
    const done = await approveAll(client, await client.send('Truncate the orders table.'), true);
    assert.ok(isCompleted(done));
    assert.match(replyText(done), /rows_deleted/);
    assert.is(await dev.stop('SIGINT'), 0);
  } finally {
    await dev.stop('SIGKILL');
    image.remove();
  }
});

test.run();
