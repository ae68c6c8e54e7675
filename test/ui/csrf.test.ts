import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { admin, checkRequest, grpcClient, nextChange, TOKENS, toolCall, type Who } from '../helpers/ext-auth.js';
import { startUiStack, type UiStack } from '../helpers/ui.js';

interface Ctx {
  stack: UiStack;
  grpc: ReturnType<typeof grpcClient>;
}

/** A signed-in reviewer as a script sees one: the session cookie and the CSRF token its page shows. */
interface Signed {
  cookie: string;
  csrf: string;
}

const it = suite<Ctx>('the reviewer queue refuses forged decisions: cross-site posts and CSRF tokens of another session');

it.before(async (ctx) => {
  ctx.stack = await startUiStack();
  ctx.grpc = grpcClient(ctx.stack.ext.grpcPort);
});
it.after(async (ctx) => {
  ctx.grpc.close();
  await ctx.stack.close();
});

async function signIn(ctx: Ctx, who: Who): Promise<Signed> {
  const response = await fetch(`${ctx.stack.uiUrl}/sign-in`, {
    method: 'POST',
    headers: { 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ token: TOKENS[who], next: '/' }),
    redirect: 'manual',
  });
  assert.is(response.status, 303, 'signed in');
  const cookie = response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const page = await (await fetch(`${ctx.stack.uiUrl}/`, { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
  assert.ok(csrf, 'the queue page carries a CSRF token');
  return { cookie, csrf: csrf! };
}

let tickets = 0;

/** Parks a new call each time: an identical one would join a pending card or meet a rejection replayed. */
async function park(ctx: Ctx): Promise<string> {
  const parked = nextChange(ctx.stack.ext.gate, (c) => c.type === 'parked');
  ctx.grpc.check(checkRequest({ body: toolCall('run_migration', { version: 'v3', ticket: `CHG-${++tickets}` }) })).result.catch(() => undefined);
  return (await parked).id;
}

function approve(ctx: Ctx, id: string, as: Signed, site: string, csrf = as.csrf) {
  return fetch(`${ctx.stack.uiUrl}/decide/${id}`, {
    method: 'POST',
    headers: { cookie: as.cookie, 'sec-fetch-site': site },
    body: new URLSearchParams({ decision: 'approve', _csrf: csrf }),
    redirect: 'manual',
  });
}

const statusOf = async (ctx: Ctx, id: string) => (await (await admin(ctx.stack.ext.adminUrl, 'carol').get(`/requests/${id}`)).json()).status;

it("another session's CSRF token is refused, even the same reviewer's", async (ctx) => {
  const id = await park(ctx);
  const first = await signIn(ctx, 'bob');
  const second = await signIn(ctx, 'bob');
  assert.is.not(first.csrf, second.csrf, 'each session has its own token');
  const forged = await approve(ctx, id, first, 'same-origin', second.csrf);
  assert.is(forged.status, 403);
  assert.match(await forged.text(), 'CSRF token');
  assert.is(await statusOf(ctx, id), 'pending', 'nothing was decided');
  const own = await approve(ctx, id, first, 'same-origin');
  assert.is(own.status, 303, 'the session with its own token decides');
  assert.is(await statusOf(ctx, id), 'approved');
});

for (const site of ['cross-site', 'same-site']) {
  it(`a ${site} post is refused even with a valid session and CSRF token`, async (ctx) => {
    const id = await park(ctx);
    const bob = await signIn(ctx, 'bob');
    const forged = await approve(ctx, id, bob, site);
    assert.is(forged.status, 403);
    assert.is(await forged.text(), 'cross-site requests are refused');
    assert.is(await statusOf(ctx, id), 'pending', 'nothing was decided');
    await admin(ctx.stack.ext.adminUrl, 'carol').decide(id, false, 'tidy up');
  });
}

it('a post with no CSRF token is refused', async (ctx) => {
  const id = await park(ctx);
  const bob = await signIn(ctx, 'bob');
  const forged = await approve(ctx, id, bob, 'same-origin', '');
  assert.is(forged.status, 403);
  assert.match(await forged.text(), 'CSRF token');
  assert.is(await statusOf(ctx, id), 'pending');
  await admin(ctx.stack.ext.adminUrl, 'carol').decide(id, false, 'tidy up');
});

it.run();
