import { createHmac } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { signatureProblem } from '../../app/ui/slack/signature.js';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = 1_531_420_618;
const BODY = 'payload=%7B%22type%22%3A%22block_actions%22%7D';
/** Computed here as Slack documents it, not with the code under test. */
const sign = (timestamp: number | string, body = BODY, secret = SECRET) => `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;

const cases: [string, { timestamp?: string; signature?: string; body?: string }, string | undefined][] = [
  ['signed now', { timestamp: String(NOW), signature: sign(NOW) }, undefined],
  ['signed 299 s ago', { timestamp: String(NOW - 299), signature: sign(NOW - 299) }, undefined],
  ['signed 301 s ago', { timestamp: String(NOW - 301), signature: sign(NOW - 301) }, 'the Slack request timestamp is more than five minutes from now'],
  ['dated 301 s ahead', { timestamp: String(NOW + 301), signature: sign(NOW + 301) }, 'the Slack request timestamp is more than five minutes from now'],
  ['another secret', { timestamp: String(NOW), signature: sign(NOW, BODY, 'other') }, 'the Slack signature does not match'],
  ['another body', { timestamp: String(NOW), signature: sign(NOW), body: `${BODY}x` }, 'the Slack signature does not match'],
  ['signature for another time', { timestamp: String(NOW), signature: sign(NOW - 1) }, 'the Slack signature does not match'],
  ['v1 prefix', { timestamp: String(NOW), signature: sign(NOW).replace('v0=', 'v1=') }, 'the Slack signature does not match'],
  ['truncated signature', { timestamp: String(NOW), signature: sign(NOW).slice(0, -2) }, 'the Slack signature does not match'],
  ['no signature', { timestamp: String(NOW) }, 'the request carries no Slack signature'],
  ['no timestamp', { signature: sign(NOW) }, 'the request carries no Slack signature'],
  ['timestamp not a number', { timestamp: `${NOW}.5`, signature: sign(`${NOW}.5`) }, 'the Slack request timestamp is not a number of seconds'],
];

for (const [name, request, expected] of cases) {
  test(`Slack signature: ${name}`, () => {
    assert.is(signatureProblem(SECRET, { body: BODY, ...request, timestamp: request.timestamp, signature: request.signature }, NOW), expected);
  });
}

test.run();
