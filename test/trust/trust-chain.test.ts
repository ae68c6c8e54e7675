/**
 * The attacks the gate must make impossible, each played against the real binaries on
 * loopback: `hitl gateway` in front of `hitl ext-auth` and `hitl mcp`, wired with one
 * approval key pair.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { APPROVAL_TOKEN_HEADER, USER_APPROVAL_TOKEN_HEADER, signApproval, type ApprovalClaims } from '../../app/contracts/approval-token.js';
import { callHash } from '../../app/contracts/tool-call.js';
import { tokenSha256Hex } from '../../app/contracts/reviewer-tokens.js';
import { checkRequest, grpcClient, TOKENS } from '../helpers/ext-auth.js';
import { writeApprovalKeys } from '../helpers/keys.js';
import { runBinary, startBinary } from '../helpers/process.js';
import { tempDir } from '../helpers/temp.js';
import { mcpState, nextPending, rawRequest, reviewer, rpcCall, startBinaryStack, type BinaryStack } from './helpers.js';

const it = suite<{ stack: BinaryStack }>('trust chain through the real binaries');
it.before(async (ctx) => {
  ctx.stack = await startBinaryStack();
});
it.after(async (ctx) => ctx.stack.close());

const migrate = (version: string, id: number | string = 1) => JSON.stringify(rpcCall('run_migration', { version }, id));

/** The text of the gate's refusal of a parked call: the call's own tool error. */
function refusal({ status, body }: { status: number; body: string }): string {
  assert.is(status, 200, body);
  const answer = JSON.parse(body);
  // A batch is answered with a batch.
  const { result } = Array.isArray(answer) ? answer[0] : answer;
  assert.is(result.isError, true, body);
  return result.content[0].text;
}
const bob = (stack: BinaryStack) => reviewer(stack, TOKENS.bob);

it('encoded spellings of the privileged path are decided as that path: parked, never run unasked', async ({ stack }) => {
  const spellings = [
    '/%70rivileged/mcp',
    '/p%72ivileged/mcp',
    '/%70%72%69%76%69%6c%65%67%65%64/mcp',
    '/public/../privileged/mcp',
    '/public/%2e%2e/privileged/mcp',
    '//privileged//mcp',
    `${stack.gateway.url}/%70rivileged/mcp`,
  ];
  for (const [attempt, target] of spellings.entries()) {
    // Each attempt its own call: an identical one would meet the rejection before it.
    const pending = nextPending(stack, TOKENS.bob, (r) => r.toolArgs.attempt === attempt);
    const answer = rawRequest(stack.gateway.url, target, { headers: [['x-user-id', 'mallory']], body: JSON.stringify(rpcCall('run_migration', { version: 'v1', attempt })) });
    const parked = await pending;
    assert.is(parked.path, '/privileged/mcp', target);
    assert.is((await bob(stack).decide(parked.id, JSON.stringify({ approved: false, reason: `spelling ${target}` }))).status, 204);
    assert.match(refusal(await answer), `spelling ${target}`);
  }
  assert.is((await mcpState(stack)).schema_version, 'v2');
});

it('what the gateway cannot normalise safely is refused with 400, before ext-auth or the server', async ({ stack }) => {
  const refusals: [string, RegExp][] = [
    ['/privileged%2Fmcp', /encoded slash or backslash/],
    ['/privileged%2fmcp', /encoded slash or backslash/],
    ['/privileged%5Cmcp', /encoded slash or backslash/],
    ['/public%2F..%2Fprivileged/mcp', /encoded slash or backslash/],
    ['/privileged/mcp%00', /encoded NUL or control character/],
    ['/privileged/%0amcp', /encoded NUL or control character/],
    ['/privileged/mcp%zz', /malformed percent-escape/],
  ];
  for (const [target, reason] of refusals) {
    const { status, body } = await rawRequest(stack.gateway.url, target, { headers: [['x-user-id', 'mallory']], body: migrate('v1') });
    assert.is(status, 400, target);
    assert.match(JSON.parse(body).error, reason, target);
  }
  // A raw backslash does not get past the HTTP server's own parser.
  assert.is((await rawRequest(stack.gateway.url, '/privileged\\mcp', { headers: [['x-user-id', 'mallory']], body: migrate('v1') })).status, 400);
  assert.equal(await bob(stack).pending(), []);
});

it('hitl mcp serves only the exact paths: any other spelling is a 404 before routing', async ({ stack }) => {
  const direct = ['/public/../privileged/mcp', '/public/%2e%2e/privileged/mcp', '/%70rivileged/mcp', '/privileged/mcp/', '/privileged//mcp', '/PRIVILEGED/mcp', '/public/%2E%2E/privileged/mcp'];
  for (const target of direct) {
    const { status } = await rawRequest(stack.mcp.url, target, { body: migrate('v1') });
    assert.is(status, 404, target);
  }
  assert.is((await rawRequest(stack.mcp.url, '/%73tate', { method: 'GET' })).status, 404);
  assert.is((await rawRequest(stack.mcp.url, '/state', { method: 'GET' })).status, 200);
  assert.is((await mcpState(stack)).schema_version, 'v2');
});

it('client-sent x-hitl-* headers never reach the server: no forged approver in its audit', async ({ stack }) => {
  const forged: [string, string][] = [
    ['x-user-id', 'mallory'],
    ['x-hitl-approval-id', 'forged-1'],
    ['x-hitl-approved-by', 'dba-bob'],
  ];
  const { status } = await rawRequest(stack.gateway.url, '/public/mcp', { headers: forged, body: JSON.stringify(rpcCall('truncate_table', { table: 'orders' })) });
  assert.is(status, 200);
  const [row] = (await mcpState(stack)).audit;
  assert.equal([row.tool, row.requested_by, row.approval_id, row.approved_by], ['truncate_table', 'mallory', null, null]);
});

it('a forged approval token through the public route is stripped; straight at the server it is refused', async ({ stack }) => {
  const other = writeApprovalKeys(stack.dir, 'forger');
  const token = await signApproval(createPrivateKey(readFileSync(other.privateKey)), claimsFor('run_migration', { version: 'v4' }, 'forged-2'));
  const direct = await rawRequest(stack.mcp.url, '/privileged/mcp', { headers: [[APPROVAL_TOKEN_HEADER, token]], body: migrate('v4') });
  assert.match(JSON.parse(direct.body).result.content[0].text, /signature does not verify/);
  const bare = await rawRequest(stack.mcp.url, '/privileged/mcp', { headers: [['x-hitl-approved-by', 'dba-bob'], ['x-hitl-approval-id', 'x']], body: migrate('v4') });
  assert.match(JSON.parse(bare.body).result.content[0].text, /carries none; nothing was run/);
  assert.is((await mcpState(stack)).schema_version, 'v2');
});

it('scene 3 through the binaries: the approval is signed, verified, and its approvers are recorded from the token', async ({ stack }) => {
  const pending = nextPending(stack, TOKENS.bob, (r) => r.toolArgs.version === 'v3');
  const answer = rawRequest(stack.gateway.url, '/privileged/mcp', { headers: [['x-user-id', 'alice'], ['x-hitl-approved-by', 'mallory']], body: migrate('v3') });
  const parked = await pending;
  assert.is((await bob(stack).decide(parked.id, '{"approved":true,"reason":"CHG-1"}')).status, 204);
  const { status, body } = await answer;
  assert.is(status, 200, body);
  assert.is(JSON.parse(body).result.structuredContent.to, 'v3');
  const [row] = (await mcpState(stack)).audit;
  assert.equal([row.tool, row.requested_by, row.approval_id, row.approved_by], ['run_migration', 'alice', parked.id, 'bob']);
});

it('a token for one call cannot run another: other arguments, other tool, replay, expired, wrong key', async ({ stack }) => {
  const key = createPrivateKey(readFileSync(stack.keys.privateKey));
  const send = async (token: string, body: string) => {
    const { body: text } = await rawRequest(stack.mcp.url, '/privileged/mcp', { headers: [[APPROVAL_TOKEN_HEADER, token]], body });
    return JSON.parse(text).result as { isError?: boolean; content: { text: string }[] };
  };
  const forV4 = await signApproval(key, claimsFor('run_migration', { version: 'v4' }, 'approval-v4'));
  assert.match((await send(forV4, migrate('v1'))).content[0].text, /issued for a different call/);
  assert.match((await send(forV4, JSON.stringify(rpcCall('run_migration', { version: 'v4', extra: true })))).content[0].text, /different call/);
  const forTruncate = await signApproval(key, claimsFor('truncate_table', { table: 'orders' }, 'approval-truncate'));
  assert.match((await send(forTruncate, migrate('v4'))).content[0].text, /different call/);

  const first = await send(forV4, migrate('v4'));
  assert.is(first.isError, undefined, first.content[0].text);
  assert.is((await mcpState(stack)).schema_version, 'v4');
  const replay = await send(forV4, migrate('v4'));
  assert.match(replay.content[0].text, /approval approval-v4 was already used/);

  const now = Math.floor(Date.now() / 1000);
  const expired = await new SignJWT({ gate: 'platform', approvers: ['bob'], call: callHash({ name: 'run_migration', args: { version: 'v3' } }) })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'hitl-approval+jwt' })
    .setIssuer('hitl-ext-auth')
    .setAudience('hitl-mcp')
    .setJti('approval-expired')
    .setSubject('alice')
    .setIssuedAt(now - 120)
    .setExpirationTime(now - 60)
    .sign(key);
  assert.match((await send(expired, migrate('v3'))).content[0].text, /expired/);

  const other = writeApprovalKeys(stack.dir, 'other');
  const wrongKey = await signApproval(createPrivateKey(readFileSync(other.privateKey)), claimsFor('run_migration', { version: 'v3' }, 'approval-wrong-key'));
  assert.match((await send(wrongKey, migrate('v3'))).content[0].text, /signature does not verify/);

  const state = await mcpState(stack);
  assert.is(state.schema_version, 'v4');
  assert.equal(state.audit.filter((r: any) => r.approval_id === 'approval-v4').length, 1, 'the approval ran once');
});

it('a batch of two calls is denied with a reason; the parked entry records the full call', async ({ stack }) => {
  const batch = JSON.stringify([rpcCall('run_migration', { version: 'v2' }, 1), rpcCall('run_migration', { version: 'v1' }, 2)]);
  const { status, body } = await rawRequest(stack.gateway.url, '/privileged/mcp', { headers: [['x-user-id', 'alice']], body: batch });
  assert.is(status, 403);
  assert.match(JSON.parse(body).reason, 'a batch holds 2 tool calls');
  assert.equal(await bob(stack).pending(), []);

  const pending = nextPending(stack, TOKENS.bob, (r) => r.toolArgs.version === 'v2');
  const single = JSON.stringify([rpcCall('run_migration', { version: 'v2' }, 9), { jsonrpc: '2.0', method: 'notifications/progress', params: {} }]);
  const answer = rawRequest(stack.gateway.url, '/privileged/mcp', { headers: [['x-user-id', 'alice']], body: single });
  const parked = await pending;
  await bob(stack).decide(parked.id, '{"approved":false,"reason":"not now"}');
  assert.match(refusal(await answer), 'not now');
  const audit = (await (await bob(stack).get('/audit.jsonl')).text()).trim().split('\n').map((l) => JSON.parse(l));
  const entry = audit.find((e) => e.event === 'parked' && e.requestId === parked.id);
  assert.equal(entry.detail.calls, [{ tool: 'run_migration', args: { version: 'v2' } }]);
});

it('requesters: no identity, several values, control characters, whitespace are denied; another spelling cannot self-approve', async ({ stack }) => {
  // HTTP/1 trims a header's surrounding whitespace and carries only Latin-1 without controls:
  // those spellings reach the gate as agentgateway would hand them over, in a Check's header map.
  const grpc = grpcClient(stack.ext.grpcPort);
  const viaHttp = async (headers: [string, string][]) => {
    const { status, body } = await rawRequest(stack.gateway.url, '/privileged/mcp', { headers, body: migrate('v1') });
    return { status, reason: JSON.parse(body).reason as string };
  };
  const viaCheck = async (requester: string) => {
    const answer = await grpc.check(checkRequest({ body: migrate('v1'), headers: { 'x-user-id': requester } })).result;
    return { status: answer.httpStatus, reason: answer.body?.reason as string };
  };
  const attempts: [string, () => Promise<{ status?: number; reason: string }>, RegExp][] = [
    ['no header', () => viaHttp([]), /no requester identity/],
    ['two header values', () => viaHttp([['x-user-id', 'alice'], ['x-user-id', 'bob']]), /exactly one value/],
    ['a comma', () => viaHttp([['x-user-id', 'alice,bob']]), /exactly one value/],
    ['surrounding whitespace', () => viaCheck(' alice'), /surrounding whitespace/],
    ['a control character', () => viaCheck('ali\u0001ce'), /control character/],
    ['an empty value', () => viaCheck(''), /no requester identity/],
  ];
  for (const [name, attempt, reason] of attempts) {
    const { status, reason: given } = await attempt();
    assert.is(status, 403, name);
    assert.match(given, reason, name);
  }
  // Each spelling sends its own call: to the gate the three are one requester, so an identical
  // call would meet the rejection of the one before.
  const grpcCall = (requester: string, version: string) =>
    grpc.check(checkRequest({ body: migrate(version), headers: { 'x-user-id': requester } })).result;
  const sends: [string, () => Promise<unknown>][] = [
    ['Alice', () => rawRequest(stack.gateway.url, '/privileged/mcp', { headers: [['x-user-id', 'Alice']], body: migrate('v1') })],
    ['ALICE', () => rawRequest(stack.gateway.url, '/privileged/mcp', { headers: [['x-user-id', 'ALICE']], body: migrate('v3') })],
    ['ａｌｉｃｅ', () => grpcCall('ａｌｉｃｅ', 'v4')],
  ];
  for (const [spelling, send] of sends) {
    const pending = nextPending(stack, TOKENS.bob, (r) => r.requester === spelling);
    const answer = send();
    const parked = await pending;
    const self = await reviewer(stack, TOKENS.alice).decide(parked.id, '{"approved":true}');
    assert.is(self.status, 403, spelling);
    assert.match((await self.json()).error, 'cannot decide their own request');
    await bob(stack).decide(parked.id, '{"approved":false,"reason":"self"}');
    await answer;
  }
  grpc.close();
});

it('POST /decide with a duplicate key is a 400 and decides nothing', async ({ stack }) => {
  const pending = nextPending(stack, TOKENS.bob, (r) => r.toolArgs.version === 'v1' && r.requester === 'carol');
  const answer = rawRequest(stack.gateway.url, '/privileged/mcp', { headers: [['x-user-id', 'carol']], body: migrate('v1') });
  const parked = await pending;
  const duplicate = await bob(stack).decide(parked.id, '{"approved":false,"approved":true}');
  assert.is(duplicate.status, 400);
  assert.match((await duplicate.json()).error, /duplicate key "approved"/);
  assert.is((await (await bob(stack).get(`/requests/${parked.id}`)).json()).status, 'pending');
  await bob(stack).decide(parked.id, '{"approved":false,"reason":"done"}');
  assert.match(refusal(await answer), 'done');
});

it.run();

const config = suite('trust chain configuration');

config('a tokens file naming one reviewer twice under NFKC and case folding stops ext-auth with exit 2', async () => {
  const dir = tempDir('trust-tokens');
  const file = join(dir.path, 'tokens.json');
  writeFileSync(file, JSON.stringify([
    { name: 'alice', groups: ['platform'], sha256: tokenSha256Hex('a') },
    { name: 'Ａlice', groups: ['platform'], sha256: tokenSha256Hex('b') },
  ]));
  const run = await runBinary(['ext-auth', '--tokens-file', file, '--data-dir', join(dir.path, 'data'), '--grpc-port', '0', '--admin-port', '0']);
  dir.remove();
  assert.is(run.code, 2, run.stderr);
  assert.match(run.stderr, /--tokens-file: .* names "alice" and "Ａlice", which are the same name/);
});

config('hitl mcp without a verify key refuses to start; with --no-approval-check it warns at start and on /readyz', async () => {
  const dir = tempDir('trust-mcp');
  const refused = await runBinary(['mcp', '--data-dir', dir.path, '--port', '0']);
  assert.is(refused.code, 2);
  assert.match(refused.stderr, /--approval-verify-key: is required/);
  const unchecked = startBinary(['mcp', '--data-dir', dir.path, '--port', '0', '--host', '127.0.0.1', '--no-approval-check']);
  const { url } = (await unchecked.waitForLog((l) => l.msg === 'mcp listening')) as { url: string };
  const warnings = () => unchecked.logs.filter((l) => String(l.msg).includes('without checking approvals')).length;
  assert.is(warnings(), 1, 'warned at start');
  assert.is((await fetch(`${url}/readyz`)).status, 200);
  await unchecked.waitForLog(() => warnings() === 2);
  assert.is(await unchecked.stop(), 0);
  dir.remove();
});

config.run();

function claimsFor(name: string, args: Record<string, unknown>, approvalId: string): ApprovalClaims {
  return { approvalId, kind: 'platform', gate: 'platform', requester: 'alice', approvers: ['bob'], callHash: callHash({ name, args }) };
}


const user = suite('end users\' signed approvals at the MCP server');

user('a valid user token names the approving user; an invalid one runs nothing; none is not required', async () => {
  const dir = tempDir('trust-user');
  const platform = writeApprovalKeys(dir.path, 'platform');
  const agent = writeApprovalKeys(dir.path, 'agent');
  const mcp = startBinary(['mcp', '--data-dir', dir.path, '--port', '0', '--host', '127.0.0.1', '--approval-verify-key', platform.publicKey, '--user-approval-verify-key', agent.publicKey]);
  const { url } = (await mcp.waitForLog((l) => l.msg === 'mcp listening')) as { url: string };
  const agentKey = createPrivateKey(readFileSync(agent.privateKey));
  const truncate = (table: string, id = 1) => JSON.stringify(rpcCall('truncate_table', { table }, id));
  const send = async (body: string, headers: [string, string][]) => JSON.parse((await rawRequest(url, '/public/mcp', { body, headers })).body).result;
  const userClaims = (approvalId: string, table: string): ApprovalClaims => ({
    approvalId, kind: 'user', gate: 'chat', requester: 'erin', approvers: ['erin'], callHash: callHash({ name: 'truncate_table', args: { table } }),
  });

  const wrongCall = await signApproval(agentKey, userClaims('u-1', 'customers'));
  const refused = await send(truncate('orders'), [['x-user-id', 'erin'], [USER_APPROVAL_TOKEN_HEADER, wrongCall]]);
  assert.is(refused.isError, true);
  assert.match(refused.content[0].text, /the end user's approval was refused \(approval token was issued for a different call\)/);
  const platformSigned = await signApproval(createPrivateKey(readFileSync(platform.privateKey)), { ...userClaims('u-2', 'orders'), kind: 'platform' });
  assert.match((await send(truncate('orders'), [[USER_APPROVAL_TOKEN_HEADER, platformSigned]])).content[0].text, /refused/);
  assert.is((await (await fetch(`${url}/state`)).json()).row_counts.orders, 3, 'nothing ran');

  const valid = await signApproval(agentKey, userClaims('u-3', 'orders'));
  const ran = await send(truncate('orders'), [['x-user-id', 'mallory'], [USER_APPROVAL_TOKEN_HEADER, valid]]);
  assert.equal(ran.structuredContent, { truncated: 'orders', rows_deleted: 3 });
  const replay = await send(truncate('orders', 2), [[USER_APPROVAL_TOKEN_HEADER, valid]]);
  assert.match(replay.content[0].text, /approval u-3 was already used/);
  const unsigned = await send(truncate('orders', 3), [['x-user-id', 'erin']]);
  assert.equal(unsigned.structuredContent, { truncated: 'orders', rows_deleted: 0 }, 'a user approval is never required: kagent approves without signing');

  const audit = (await (await fetch(`${url}/state`)).json()).audit;
  assert.equal(
    audit.map((r: any) => [r.requested_by, r.user_approval_id, r.user_approved_by]),
    [['erin', null, null], ['erin', 'u-3', 'erin']],
  );
  assert.is(await mcp.stop(), 0);
  dir.remove();
});

user.run();
