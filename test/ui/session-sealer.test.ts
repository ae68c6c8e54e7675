/**
 * The sealed session cookie and the CSRF token bound to it, on their own: what opens, what
 * does not, and what a token is tied to.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SessionSealer, type Session } from '../../app/ui/session.js';

const credential = { kind: 'bearer', token: 'token-of-bob' } as const;
const sealer = new SessionSealer('a shared secret');

test('a sealed value opens to itself, and a replica sharing the secret opens it too', () => {
  const value = { reviewer: 'bob', groups: ['platform'] };
  const sealed = sealer.seal(value);
  assert.equal(sealer.open(sealed), value);
  assert.equal(new SessionSealer('a shared secret').open(sealed), value);
});

test('the sealed text does not show what it holds', () => {
  const sealed = sealer.seal({ token: 'token-of-bob' });
  assert.not.match(Buffer.from(sealed, 'base64url').toString('latin1'), /token-of-bob/);
});

test('nothing, something altered, something foreign or something too short opens to nothing', () => {
  const sealed = sealer.seal({ reviewer: 'bob' });
  const raw = Buffer.from(sealed, 'base64url');
  const flipped = (at: number) => {
    const copy = Buffer.from(raw);
    copy[at] ^= 1;
    return copy.toString('base64url');
  };
  assert.is(sealer.open(undefined), undefined);
  assert.is(sealer.open(''), undefined);
  assert.is(sealer.open(flipped(0)), undefined, 'nonce altered');
  assert.is(sealer.open(flipped(12)), undefined, 'tag altered');
  assert.is(sealer.open(flipped(raw.length - 1)), undefined, 'ciphertext altered');
  assert.is(new SessionSealer('another secret').open(sealed), undefined);
  // A nonce and a tag with nothing after them, a tag cut short, a nonce cut short.
  for (const length of [28, 20, 8]) assert.is(sealer.open(raw.subarray(0, length).toString('base64url')), undefined, `${length} bytes`);
  assert.is(sealer.open('not base64url at all!'), undefined);
});

test('without a secret each process seals with its own random key', () => {
  const sealed = new SessionSealer(undefined).seal({ reviewer: 'bob' });
  assert.is(new SessionSealer(undefined).open(sealed), undefined);
  assert.is(new SessionSealer('').open(sealed), undefined);
});

test('sealing the same value twice gives two different texts (a fresh nonce each time)', () => {
  assert.is.not(sealer.seal({ reviewer: 'bob' }), sealer.seal({ reviewer: 'bob' }));
});

test('a new session has a random id, the reviewer and credential, and ends ttl after it began', () => {
  const before = Date.now();
  const session = sealer.newSession('bob', credential, 60_000);
  const after = Date.now();
  assert.match(session.id, /^[A-Za-z0-9_-]{22}$/);
  assert.is.not(sealer.newSession('bob', credential, 60_000).id, session.id);
  assert.is(session.reviewer, 'bob');
  assert.equal(session.credential, credential);
  assert.ok(session.expiresAt >= before + 60_000 && session.expiresAt <= after + 60_000, `expires at ${session.expiresAt}`);
});

test('a sealed session opens while it lasts and not once it has expired', () => {
  const live = sealer.newSession('bob', credential, 60_000);
  assert.equal(sealer.openSession(sealer.seal(live)), live);
  const expired: Session = { ...live, expiresAt: Date.now() - 1 };
  assert.is(sealer.openSession(sealer.seal(expired)), undefined);
  assert.is(sealer.openSession(undefined), undefined);
});

test('a session lasts up to its expiry, not including it', () => {
  const session = sealer.newSession('bob', credential, 60_000);
  const sealed = sealer.seal(session);
  assert.equal(sealer.openSession(sealed, session.expiresAt - 1), session);
  assert.is(sealer.openSession(sealed, session.expiresAt), undefined);
});

test('a CSRF token is checked against its own session only', () => {
  const token = sealer.csrfToken('session-a');
  assert.ok(sealer.checkCsrf('session-a', token));
  assert.not.ok(sealer.checkCsrf('session-b', token), "another session's token");
  assert.is.not(sealer.csrfToken('session-b'), token);
});

test('a CSRF token is bound to the secret: a replica with the same secret accepts it, another secret does not', () => {
  const token = sealer.csrfToken('session-a');
  assert.ok(new SessionSealer('a shared secret').checkCsrf('session-a', token));
  assert.not.ok(new SessionSealer('another secret').checkCsrf('session-a', token));
});

test('a CSRF token that is missing, not a string, cut short or altered is refused without throwing', () => {
  const token = sealer.csrfToken('session-a');
  for (const given of [undefined, null, 42, ['x'], '', token.slice(0, -1), `${token}x`, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`]) {
    assert.is(sealer.checkCsrf('session-a', given), false, JSON.stringify(given));
  }
});

test.run();
