import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import {
  ApprovalTokenError,
  generateApprovalKeyPair,
  signApproval,
  verifyApproval,
  type ApprovalClaims,
} from '../../app/contracts/approval-token.js';
import { callHash, canonicalCall } from '../../app/contracts/tool-call.js';

const pair = generateApprovalKeyPair();
const signing = createPrivateKey(pair.privatePem);
const verifying = createPublicKey(pair.publicPem);
const migrateV3 = callHash({ name: 'run_migration', args: { version: 'v3' } });
const claims: ApprovalClaims = {
  approvalId: 'a1b2',
  kind: 'platform',
  gate: 'platform',
  requester: 'erin',
  approvers: ['rita'],
  callHash: migrateV3,
};

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.instance(err, ApprovalTokenError);
    return (err as Error).message;
  }
  assert.unreachable('the token was accepted');
  return '';
}

test('canonical calls ignore key order and spacing, nothing else', () => {
  const a = callHash({ name: 't', args: { b: 1, a: { y: [1, { q: 2, p: 1 }], x: 'x' } } });
  const b = callHash(JSON.parse('{ "name":"t", "args": {"a": {"x":"x", "y":[1,{"p":1,"q":2}]}, "b":1}}'));
  assert.is(a, b);
  assert.is.not(callHash({ name: 't', args: { b: '1' } }), callHash({ name: 't', args: { b: 1 } }));
  assert.is.not(callHash({ name: 't', args: { b: 1 } }), callHash({ name: 'u', args: { b: 1 } }));
  assert.is.not(callHash({ name: 't', args: { a: [1, 2] } }), callHash({ name: 't', args: { a: [2, 1] } }));
  assert.is(canonicalCall({ name: 't', args: { b: 1, a: null } }), '{"arguments":{"a":null,"b":1},"method":"tools/call","name":"t"}');
});

test('a signed approval verifies for its own call and carries its claims', async () => {
  const token = await signApproval(signing, claims);
  assert.equal(await verifyApproval(verifying, 'platform', token, migrateV3), claims);
  assert.is(decodeProtectedHeader(token).alg, 'EdDSA');
  const payload = decodeJwt(token);
  assert.ok((payload.exp ?? 0) - (payload.iat ?? 0) <= 60, 'lifetime at most a minute');
});

test('a token cannot run another call', async () => {
  const token = await signApproval(signing, claims);
  const other = callHash({ name: 'run_migration', args: { version: 'v4' } });
  assert.match(await refusal(verifyApproval(verifying, 'platform', token, other)), 'different call');
});

test('an expired token is refused', async () => {
  const token = await signApproval(signing, claims, 5);
  const later = new Date(Date.now() + 6_000);
  assert.match(await refusal(verifyApproval(verifying, 'platform', token, migrateV3, later)), 'expired');
});

test('a lifetime over a minute is capped at a minute', async () => {
  const token = await signApproval(signing, claims, 3600);
  const payload = decodeJwt(token);
  assert.is((payload.exp ?? 0) - (payload.iat ?? 0), 60);
});

test('a token signed with another key is refused', async () => {
  const stranger = generateKeyPairSync('ed25519').privateKey;
  const token = await signApproval(stranger, claims);
  assert.match(await refusal(verifyApproval(verifying, 'platform', token, migrateV3)), 'signature');
});

test("an end user's approval is not a platform approval", async () => {
  const token = await signApproval(signing, { ...claims, kind: 'user' });
  assert.match(await refusal(verifyApproval(verifying, 'platform', token, migrateV3)), '"iss"');
});

test('an edited payload is refused', async () => {
  const token = await signApproval(signing, claims);
  const [header, payload, signature] = token.split('.');
  const edited = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), approvers: ['mallory'] }),
  ).toString('base64url');
  assert.match(await refusal(verifyApproval(verifying, 'platform', `${header}.${edited}.${signature}`, migrateV3)), 'signature');
});

test('a token without approvers is refused', async () => {
  const token = await new SignJWT({ gate: 'platform', approvers: [], call: migrateV3 })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'hitl-approval+jwt' })
    .setIssuer('hitl-ext-auth')
    .setAudience('hitl-mcp')
    .setJti('x')
    .setSubject('erin')
    .setIssuedAt()
    .setExpirationTime('30s')
    .sign(signing);
  assert.match(await refusal(verifyApproval(verifying, 'platform', token, migrateV3)), 'approvers');
});

test('garbage is refused with a reason', async () => {
  assert.match(await refusal(verifyApproval(verifying, 'platform', 'not-a-token', migrateV3)), 'not acceptable');
});

test.run();
