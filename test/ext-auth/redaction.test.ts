/**
 * Credentials a parked call carried never leave the gate: not on the reviewer's card, not
 * through the admin API, not in the audit export, not in any log line of ext-auth or the UI.
 * The always-secret headers and one named with --redact-headers are each checked by name.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { startExtAuth, type RunningExtAuth } from '../../app/ext-auth/command.js';
import { startUi } from '../../app/ui/command.js';
import { admin, checkRequest, extAuthConfig, grpcClient, nextChange, TOKENS, toolCall } from '../helpers/ext-auth.js';
import { startMcp, type McpUnderTest } from '../helpers/mcp.js';
import { tempDir } from '../helpers/temp.js';
import { uiConfig } from '../helpers/ui.js';

/** Every credential the call carries, by header name, each with a value found nowhere else. */
const SECRETS: Record<string, string> = {
  authorization: 'Bearer secret-authorization-1',
  cookie: 'session=secret-cookie-2',
  'proxy-authorization': 'Basic secret-proxy-authorization-3',
  'x-api-key': 'secret-api-key-4',
  // Named in --redact-headers in another case than it is sent.
  'x-tenant-token': 'secret-tenant-token-5',
};

interface Ctx {
  dir: ReturnType<typeof tempDir>;
  mcp: McpUnderTest;
  ext: RunningExtAuth;
  ui: { url: string; close(): Promise<void> };
  logs: string[];
  id: string;
  answered: Promise<unknown>;
}

/** A logger at its most talkative whose lines are kept for the test to read. */
function capturingLogger(service: string, lines: string[]): Logger {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return pino({ level: 'trace', base: { service } }, sink);
}

const it = suite<Ctx>('credentials are redacted everywhere a parked call is shown or recorded');

it.before(async (ctx) => {
  ctx.dir = tempDir('redaction');
  ctx.logs = [];
  ctx.mcp = await startMcp({ dataDir: `${ctx.dir.path}/mcp` });
  ctx.ext = await startExtAuth(extAuthConfig(ctx.dir.path, { redactHeaders: ['X-Tenant-Token'] }), capturingLogger('ext-auth', ctx.logs));
  ctx.ui = await startUi(uiConfig(ctx.ext.adminUrl, ctx.mcp.url), capturingLogger('ui', ctx.logs));
  const grpc = grpcClient(ctx.ext.grpcPort);
  const parked = nextChange(ctx.ext.gate, (c) => c.type === 'parked');
  const call = grpc.check(checkRequest({ headers: { ...SECRETS, 'x-trace-note': 'kept-header-value' }, body: toolCall('run_migration', { version: 'v3' }) }));
  ctx.id = (await parked).id;
  ctx.answered = call.result.finally(() => grpc.close());
});

it.after(async (ctx) => {
  await admin(ctx.ext.adminUrl, 'bob').decide(ctx.id, false, 'test over');
  await ctx.answered;
  await ctx.ui.close();
  await ctx.ext.close();
  await ctx.mcp.close();
  ctx.dir.remove();
});

/** Which secret header names or values appear in `text`. */
const leaked = (text: string) => Object.entries(SECRETS).filter(([name, value]) => text.includes(value) || text.includes(`"${name}"`)).map(([name]) => name);

it('the admin API shows the other headers and none of the credentials', async (ctx) => {
  for (const path of ['/pending', `/requests/${ctx.id}`]) {
    const text = await (await admin(ctx.ext.adminUrl, 'bob').get(path)).text();
    assert.ok(text.includes('kept-header-value'), `${path} shows the headers it keeps`);
    assert.equal(leaked(text), [], `${path} shows no credential`);
  }
  const record = await (await admin(ctx.ext.adminUrl, 'bob').get(`/requests/${ctx.id}`)).json();
  for (const name of Object.keys(SECRETS)) assert.is(record.headers[name], undefined, `${name} is not stored`);
});

it("the reviewer's card shows the other headers and none of the credentials", async (ctx) => {
  const signIn = await fetch(`${ctx.ui.url}/sign-in`, {
    method: 'POST',
    headers: { 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ token: TOKENS.bob, next: '/' }),
    redirect: 'manual',
  });
  assert.is(signIn.status, 303);
  const cookie = signIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const page = await (await fetch(`${ctx.ui.url}/`, { headers: { cookie } })).text();
  assert.ok(page.includes(`id="card-${ctx.id}"`), 'the call has its card');
  assert.ok(page.slice(page.indexOf(`id="card-${ctx.id}"`)).includes('kept-header-value'), 'the card lists the headers it keeps');
  assert.equal(leaked(page), [], 'the queue page shows no credential');
});

it('the audit export records the call and none of the credentials', async (ctx) => {
  const text = await (await admin(ctx.ext.adminUrl, 'bob').get('/audit.jsonl')).text();
  assert.ok(text.includes(ctx.id), 'the parked call is in the audit');
  assert.equal(leaked(text), []);
});

it('no log line of ext-auth or the UI holds a credential', async (ctx) => {
  const all = ctx.logs.join('');
  assert.ok(ctx.logs.some((line) => line.includes(ctx.id) && line.includes('"service":"ext-auth"')), 'the park was logged');
  assert.equal(leaked(all), []);
});

it.run();
