import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SLACK_USER_HEADER } from '../../app/contracts/slack-bridge.js';
import { tokenSha256Hex as sha256Hex } from '../../app/contracts/reviewer-tokens.js';
import { loadTokens } from '../../app/ext-auth/reviewers.js';
import { ConfigError } from '../../app/shared/flags.js';
import { extAuthConfig, startGate } from '../helpers/ext-auth.js';
import { tempDir } from '../helpers/temp.js';

const entry = (name: string, extra: object = {}) => ({ name, groups: ['platform'], sha256: sha256Hex(`token-${name}`), ...extra });

function tokensFile(dir: string, entries: object[]): string {
  const path = join(dir, `tokens-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(entries));
  return path;
}

test('a tokens file with a malformed Slack mapping is refused, naming what is wrong', () => {
  const dir = tempDir('slack-tokens');
  try {
    const cases: [object[], RegExp][] = [
      [[entry('alice', { slack: 'alice' })], /entry 0 .*"slack" must be a Slack user id/],
      [[entry('alice', { slack: 42 })], /entry 0 .*"slack" must be a Slack user id/],
      [[entry('alice', { slackBridge: 'yes' })], /entry 0 .*"slackBridge" must be true or false/],
      [[entry('alice', { slack: 'U0SAME' }), entry('bob', { slack: 'U0SAME' })], /maps Slack user U0SAME to both "alice" and "bob"/],
      [[entry('bridge', { slackBridge: true })], /entry 0 .*the Slack bridge's entry must have no groups and no "slack" id/],
      [[entry('bridge', { groups: [], slack: 'U0BRIDGE', slackBridge: true })], /entry 0 .*the Slack bridge's entry must have no groups/],
    ];
    for (const [entries, expected] of cases) {
      try {
        loadTokens(tokensFile(dir.path, entries));
        assert.unreachable(`accepted ${JSON.stringify(entries)}`);
      } catch (err) {
        assert.instance(err, ConfigError);
        assert.match((err as Error).message, expected);
      }
    }
  } finally {
    dir.remove();
  }
});

test('only the Slack bridge token may act for a Slack user, and only for one the tokens file maps', async () => {
  const dir = tempDir('slack-mapping');
  const path = tokensFile(dir.path, [entry('alice', { slack: 'U0ALICE' }), entry('bob'), { name: 'slack-bridge', groups: [], sha256: sha256Hex('token-bridge'), slackBridge: true }]);
  const ext = await startGate(extAuthConfig(dir.path, { tokensFile: path }));
  const whoami = (token: string, slackUser?: string) =>
    fetch(`${ext.adminUrl}/whoami`, { headers: { authorization: `Bearer ${token}`, ...(slackUser ? { [SLACK_USER_HEADER]: slackUser } : {}) } });
  try {
    const asAlice = await whoami('token-bridge', 'U0ALICE');
    assert.is(asAlice.status, 200);
    assert.equal(await asAlice.json(), { name: 'alice', groups: ['platform'] }, 'the mapped reviewer, with their own groups');

    const itself = await whoami('token-bridge');
    assert.equal(await itself.json(), { name: 'slack-bridge', groups: [] }, 'without the header the bridge is only itself');

    const unmapped = await whoami('token-bridge', 'U0NOBODY');
    assert.is(unmapped.status, 403);
    assert.match((await unmapped.json()).error, /Slack user U0NOBODY is not mapped to a reviewer/);

    const notBridge = await whoami('token-bob', 'U0ALICE');
    assert.is(notBridge.status, 403, 'a reviewer cannot borrow another through the header');
    assert.match((await notBridge.json()).error, /only the Slack bridge's token may send/);
  } finally {
    await ext.close();
    dir.remove();
  }
});

test.run();
