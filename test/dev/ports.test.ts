import { createServer } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { devFlags } from '../../app/dev/flags.js';
import { argv } from '../../app/shared/invocation.js';
import { freePorts } from '../helpers/dev.js';
import { runBinary } from '../helpers/process.js';
import { tempDir } from '../helpers/temp.js';

test('npm start with a port in use stops before starting anything and names the port and its flag', async () => {
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const port = (squatter.address() as { port: number }).port;
  const dir = tempDir('dev-ports');
  try {
    // Every other port is left to the system, so only the busy one can be reported.
    const { code, stderr, stdout } = await runBinary(['dev', '--data-dir', dir.path, ...freePorts('uiPort'), ...argv(devFlags, { uiPort: port })]);
    assert.is(code, 2);
    assert.match(stderr, new RegExp(`port ${port} on 127.0.0.1 is in use; choose another with --ui-port`));
    assert.not.match(stdout, /starting/, 'nothing was started');
  } finally {
    squatter.close();
    dir.remove();
  }
});

test.run();
