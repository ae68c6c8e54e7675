import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyRuntimePackages } from '../../scripts/runtime-packages.mjs';
import { approveAll, chatClient, isCompleted, replyText } from '../helpers/a2a.js';
import { printedUrl, startDev } from '../helpers/dev.js';
import type { Running } from '../helpers/process.js';
import { tempDir } from '../helpers/temp.js';

const repository = new URL('../..', import.meta.url).pathname;

test("the image's files alone run every service: the bundle, its assets and the runtime packages", async () => {
  // What the Dockerfile puts in /opt/hitl, with nothing of the repository's node_modules beside it.
  const image = tempDir('image-layout');
  cpSync(join(repository, 'dist/hitl.mjs'), join(image.path, 'dist/hitl.mjs'));
  cpSync(join(repository, 'dist/assets'), join(image.path, 'dist/assets'), { recursive: true });
  copyRuntimePackages(repository, image.path);
  let dev: Running | undefined;
  try {
    dev = await startDev(join(image.path, 'data'), { env: { NODE_ENV: 'production' }, binary: join(image.path, 'dist/hitl.mjs') });
    const queue = printedUrl(dev, 'reviewer queue');
    for (const asset of ['/assets/htmx.min.js', '/assets/queue.js', '/sign-in']) assert.is((await fetch(`${queue}${asset}`)).status, 200, asset);

    const client = await chatClient(new URL(printedUrl(dev, 'end-user chat')).origin, '1.0');
    assert.match(replyText(await client.send("What's in the orders table?")), /acme/, 'a query through the gateway, on the embedded database');
    const done = await approveAll(client, await client.send('Truncate the orders table.'), true);
    assert.ok(isCompleted(done));
    assert.match(replyText(done), /^Truncated orders: \d+ rows? deleted\.$/);
    assert.is(await dev.stop('SIGINT'), 0);
  } finally {
    await dev?.stop('SIGKILL');
    image.remove();
  }
});

test.run();
