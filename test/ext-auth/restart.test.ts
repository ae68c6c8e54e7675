import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { admin, checkRequest, grpcClient, toolCall, writeTokensFile } from '../helpers/ext-auth.js';
import { runBinary, startBinary } from '../helpers/process.js';
import { tempDir } from '../helpers/temp.js';

test('a crash with a parked call: the restarted server records it abandoned, and the audit chain verifies', async () => {
  const dir = tempDir('ext-auth-restart');
  const dataDir = join(dir.path, 'data');
  const args = ['ext-auth', '--grpc-port', '0', '--admin-port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--tokens-file', writeTokensFile(dir.path)];

  const first = startBinary(args);
  const { grpcPort } = (await first.waitForLog((l) => l.msg === 'ext-auth listening')) as { grpcPort: number };
  const client = grpcClient(grpcPort);
  const call = client.check(checkRequest({ body: toolCall('run_migration', { version: 'v3' }) }));
  const failed = call.result.then(
    (answer) => `answered ${JSON.stringify(answer)}`,
    (err: Error) => err.message,
  );
  const { id } = (await first.waitForLog((l) => l.msg === 'parked')) as { id: string };
  await first.stop('SIGKILL');
  assert.match(await failed, /UNAVAILABLE|CANCELLED/);
  client.close();

  const second = startBinary(args);
  const recovered = (await second.waitForLog((l) => String(l.msg).includes('recorded as abandoned'))) as { ids: string[] };
  assert.equal(recovered.ids, [id]);
  const { url } = (await second.waitForLog((l) => l.msg === 'ext-auth listening')) as { url: string };
  const record = await (await admin(url, 'bob').get(`/requests/${id}`)).json();
  assert.equal([record.status, record.reason], ['abandoned', 'ext-auth restarted while the request waited']);
  assert.is((await admin(url, 'bob').decide(id, true)).status, 410);
  const exported = await (await admin(url, 'bob').get('/audit.jsonl')).text();
  assert.is(await second.stop(), 0);

  const verified = await runBinary(['ext-auth', 'verify-audit', '--data-dir', dataDir]);
  assert.is(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /audit chain intact: \d+ entries/);

  const tamperedFile = join(dir.path, 'tampered.jsonl');
  writeFileSync(tamperedFile, exported.replace('"event":"parked"', '"event":"parkd"').replace(/"entry":"(.*?)parked/, '"entry":"$1parkd'));
  const tampered = await runBinary(['ext-auth', 'verify-audit', '--file', tamperedFile]);
  assert.is(tampered.code, 1, tampered.stdout + tampered.stderr);
  assert.match(tampered.stderr, /audit chain broken at line 1 \(entry 1\)/);
  dir.remove();
});

test.run();
