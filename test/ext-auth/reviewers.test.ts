/**
 * Who may call the admin API, on its own: the tokens file's rules, a bearer token or a trusted
 * proxy's identity header, the Slack bridge acting for a mapped reviewer, and a tokens file
 * changed on disk. The middleware answers through a Hono app, as the admin API mounts it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hono } from 'hono';
import { SLACK_USER_HEADER } from '../../app/contracts/slack-bridge.js';
import { tokenSha256Hex } from '../../app/contracts/reviewer-tokens.js';
import { loadTokens, requireReviewer, type ReviewerAuthOptions } from '../../app/ext-auth/reviewers.js';
import { ConfigError } from '../../app/shared/flags.js';
import { tempDir } from '../helpers/temp.js';

const entry = (name: string, extra: object = {}) => ({ name, groups: ['platform'], sha256: tokenSha256Hex(`token-${name}`), ...extra });
const bridge = { name: 'slack-bridge', groups: [], sha256: tokenSha256Hex('token-bridge'), slackBridge: true };

const dir = tempDir('reviewers');
let written = 0;
function tokensFile(content: unknown): string {
  const path = join(dir.path, `tokens-${written++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Asserts loading `content` fails with a ConfigError for --tokens-file whose message matches. */
function refused(content: unknown, expected: RegExp) {
  const path = tokensFile(content);
  assert.throws(
    () => loadTokens(path),
    (err: Error) => err instanceof ConfigError && err.flag === 'tokens-file' && expected.test(err.message),
    `${JSON.stringify(content)} should be refused with ${expected}`,
  );
}

/** The middleware in front of a route that answers with the reviewer it set. */
function adminApp(options: Partial<ReviewerAuthOptions>) {
  const app = new Hono<{ Variables: { reviewer: { name: string; groups: string[] } } }>();
  app.use(requireReviewer({ groupsHeader: 'x-forwarded-groups', ...options }));
  app.get('/whoami', (c) => c.json(c.get('reviewer')));
  return async (headers: Record<string, string>) => {
    const response = await app.request('/whoami', { headers });
    return { status: response.status, body: await response.json(), challenge: response.headers.get('www-authenticate') };
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

test('a valid tokens file lists each reviewer with groups, token digest, Slack id, and whether it is the bridge', () => {
  const loaded = loadTokens(tokensFile([entry('alice', { slack: 'U012AB3CD' }), { ...entry('bob'), sha256: tokenSha256Hex('token-bob').toUpperCase() }, bridge]));
  assert.equal(
    loaded.map((e) => ({ ...e, sha256: e.sha256.toString('hex') })),
    [
      { name: 'alice', groups: ['platform'], sha256: tokenSha256Hex('token-alice'), slack: 'U012AB3CD', slackBridge: false },
      { name: 'bob', groups: ['platform'], sha256: tokenSha256Hex('token-bob'), slack: undefined, slackBridge: false },
      { name: 'slack-bridge', groups: [], sha256: tokenSha256Hex('token-bridge'), slack: undefined, slackBridge: true },
    ],
  );
  assert.is(loadTokens(tokensFile([entry('carol', { slackBridge: false })]))[0].slackBridge, false);
});

test('a tokens file that cannot be read, or is not a JSON array, is refused', () => {
  assert.throws(() => loadTokens(join(dir.path, 'absent.json')), (err: Error) => err instanceof ConfigError && /cannot read .*absent\.json/.test(err.message));
  refused('[{"name":', /cannot read .*: /);
  refused({ reviewers: [] }, /must hold a JSON array/);
});

test('an entry without a name, groups of strings or a 64-hex-digit sha256 is refused, naming its place', () => {
  const needs = /entry 1 of .* needs name, groups \(strings\) and sha256 \(64 hex digits\)/;
  const broken: object[] = [
    { groups: ['platform'], sha256: tokenSha256Hex('x') },
    { ...entry('x'), name: 7 },
    { ...entry('x'), name: '   ' },
    { name: 'x', sha256: tokenSha256Hex('x') },
    { ...entry('x'), groups: 'platform' },
    { ...entry('x'), groups: ['platform', 7] },
    { name: 'x', groups: [] },
    { ...entry('x'), sha256: 42 },
    { ...entry('x'), sha256: [tokenSha256Hex('x')] },
    { ...entry('x'), sha256: tokenSha256Hex('x').slice(1) },
    { ...entry('x'), sha256: `${tokenSha256Hex('x')}0` },
    { ...entry('x'), sha256: `g${tokenSha256Hex('x').slice(1)}` },
    { ...entry('x'), sha256: ` ${tokenSha256Hex('x').slice(1)}` },
  ];
  for (const bad of broken) refused([entry('ok'), bad], needs);
  refused([null], /entry 0 of .* needs name/);
});

test('a Slack id must look like one: U or W and 2 to 30 capitals or digits', () => {
  for (const slack of ['U12', 'W012AB3CD', `U${'1'.repeat(30)}`]) assert.is(loadTokens(tokensFile([entry('alice', { slack })]))[0].slack, slack);
  for (const slack of [['U012AB3CD'], 'U1', 'u012AB3CD', 'X012AB3CD', 'U012ab3cd', `U${'1'.repeat(31)}`, ` U012AB3CD`, 'U012AB3CD ']) {
    refused([entry('alice', { slack })], /entry 0 of .*: "slack" must be a Slack user id such as U012AB3CD/);
  }
});

test('the bridge flag must be a boolean, and the bridge may hold no groups and no Slack id', () => {
  refused([entry('alice', { slackBridge: 1 })], /entry 0 of .*: "slackBridge" must be true or false/);
  refused([{ ...bridge, groups: ['platform'] }], /entry 0 of .*: the Slack bridge's entry must have no groups and no "slack" id, so it can never decide as itself/);
  refused([{ ...bridge, slack: 'U0BRIDGE' }], /the Slack bridge's entry must have no groups and no "slack" id/);
});

test('a reviewer listed twice under names that read the same, or a Slack id mapped twice, is refused', () => {
  refused([entry('alice'), entry('bob'), entry('ALICE')], /names "alice" and "ALICE", which are the same name; a reviewer must be listed once/);
  refused([entry('alice', { slack: 'U0SAME' }), entry('bob'), entry('carol', { slack: 'U0SAME' })], /maps Slack user U0SAME to both "alice" and "carol"/);
  assert.is(loadTokens(tokensFile([entry('alice', { slack: 'U0ALICE' }), entry('bob', { slack: 'U0BOB' })])).length, 2);
});

test('a listed bearer token names its reviewer; no token, an unknown one or another scheme is a 401 with a bearer challenge', async () => {
  const whoami = adminApp({ tokensFile: tokensFile([entry('alice'), entry('bob', { groups: ['dba'] })]) });
  assert.equal(await whoami(bearer('token-bob')), { status: 200, body: { name: 'bob', groups: ['dba'] }, challenge: null });
  assert.equal((await whoami({ authorization: 'bearer   token-alice' })).body, { name: 'alice', groups: ['platform'] });
  for (const headers of [{}, bearer('token-mallory'), { authorization: 'Basic token-alice' }, { authorization: 'NotBearer token-alice' }, { authorization: 'Bearer token-alice extra' }, { authorization: 'Bearer' }]) {
    assert.equal(await whoami(headers), { status: 401, body: { error: 'a reviewer credential is required' }, challenge: 'Bearer realm="hitl"' }, JSON.stringify(headers));
  }
});

test('without a tokens file no bearer token is accepted', async () => {
  assert.is((await adminApp({})(bearer('token-alice'))).status, 401);
});

test('a trusted proxy header names the reviewer and its groups header lists their groups', async () => {
  const whoami = adminApp({ identityHeader: 'X-Forwarded-User' });
  assert.equal((await whoami({ 'x-forwarded-user': ' erin ', 'x-forwarded-groups': ' platform , ,dba ' })).body, { name: 'erin', groups: ['platform', 'dba'] });
  assert.equal((await whoami({ 'x-forwarded-user': 'erin' })).body, { name: 'erin', groups: [] });
  assert.is((await whoami({ 'x-forwarded-user': '   ' })).status, 401);
  assert.is((await whoami({})).status, 401);
});

test('an identity header is ignored unless the proxy is trusted, and a bearer token wins over it', async () => {
  assert.is((await adminApp({ tokensFile: tokensFile([entry('alice')]) })({ 'x-forwarded-user': 'erin' })).status, 401);
  const both = adminApp({ tokensFile: tokensFile([entry('alice')]), identityHeader: 'x-forwarded-user' });
  assert.equal((await both({ ...bearer('token-alice'), 'x-forwarded-user': 'erin', 'x-forwarded-groups': 'platform' })).body, { name: 'alice', groups: ['platform'] });
});

test('only the bridge acts for a Slack user, and only as the reviewer that user is mapped to', async () => {
  const whoami = adminApp({ tokensFile: tokensFile([entry('alice', { slack: 'U0ALICE', groups: ['dba'] }), entry('bob'), bridge]) });
  assert.equal(await whoami({ ...bearer('token-bridge'), [SLACK_USER_HEADER]: 'U0ALICE' }), { status: 200, body: { name: 'alice', groups: ['dba'] }, challenge: null });
  assert.equal((await whoami(bearer('token-bridge'))).body, { name: 'slack-bridge', groups: [] });
  assert.equal(await whoami({ ...bearer('token-bridge'), [SLACK_USER_HEADER]: 'U0NOBODY' }), {
    status: 403,
    body: { error: 'Slack user U0NOBODY is not mapped to a reviewer, so cannot decide here; ask for a "slack" entry in the reviewers\' tokens file' },
    challenge: null,
  });
  assert.equal(await whoami({ ...bearer('token-bob'), [SLACK_USER_HEADER]: 'U0ALICE' }), {
    status: 403,
    body: { error: `only the Slack bridge's token may send ${SLACK_USER_HEADER}` },
    challenge: null,
  });
  const proxied = adminApp({ identityHeader: 'x-forwarded-user' });
  assert.is((await proxied({ 'x-forwarded-user': 'erin', [SLACK_USER_HEADER]: 'U0ALICE' })).status, 403, 'a proxy-signed reviewer is no bridge');
});

test('a tokens file changed on disk is read again: a removed token stops working, a broken file accepts none until fixed', async () => {
  const path = tokensFile([entry('alice'), entry('bob')]);
  const changes: unknown[] = [];
  const whoami = adminApp({ tokensFile: path, onTokensChanged: (listed) => changes.push(listed) });
  assert.is((await whoami(bearer('token-bob'))).status, 200);
  assert.equal(changes, [], 'nothing changed yet');

  // Replaced by rename, as a Kubernetes Secret update swaps the file, so the change is seen
  // whatever the clock's resolution.
  const replace = (content: string) => {
    writeFileSync(`${path}.next`, content);
    renameSync(`${path}.next`, path);
  };
  replace(JSON.stringify([entry('alice')]));
  assert.is((await whoami(bearer('token-bob'))).status, 401, 'removed token');
  assert.is((await whoami(bearer('token-alice'))).status, 200);
  assert.equal(changes, [{ sha256: [tokenSha256Hex('token-alice')] }]);

  replace('not json');
  assert.is((await whoami(bearer('token-alice'))).status, 401, 'broken file');
  assert.match((changes[1] as { problem: string }).problem, /--tokens-file: cannot read/);

  rmSync(path);
  assert.is((await whoami(bearer('token-alice'))).status, 401, 'missing file');
  assert.match((changes[2] as { problem: string }).problem, /--tokens-file: cannot read/);

  replace(JSON.stringify([entry('alice'), entry('bob')]));
  assert.is((await whoami(bearer('token-bob'))).status, 200, 'fixed file');
  assert.is(changes.length, 4);
});

test('a tokens file is read again when it changes even with nobody listening for the change', async () => {
  const path = tokensFile([entry('alice'), entry('bob')]);
  const whoami = adminApp({ tokensFile: path });
  assert.is((await whoami(bearer('token-bob'))).status, 200);
  writeFileSync(`${path}.next`, JSON.stringify([entry('alice')]));
  renameSync(`${path}.next`, path);
  assert.is((await whoami(bearer('token-bob'))).status, 401);
  assert.is((await whoami(bearer('token-alice'))).status, 200);
  writeFileSync(`${path}.next`, 'not json');
  renameSync(`${path}.next`, path);
  assert.is((await whoami(bearer('token-alice'))).status, 401);
});

test.after(() => dir.remove());

test.run();
