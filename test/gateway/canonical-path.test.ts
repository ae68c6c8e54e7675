import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalTarget, UnsafePathError } from '../../app/gateway/canonical-path.js';

const canonical: [string, string][] = [
  ['/privileged/mcp', '/privileged/mcp'],
  ['/%70rivileged/mcp', '/privileged/mcp'],
  ['/%70%72%69%76%69%6C%65%67%65%64/mcp', '/privileged/mcp'],
  ['/public/../privileged/mcp', '/privileged/mcp'],
  ['/public/%2e%2E/privileged/mcp', '/privileged/mcp'],
  ['/public/./mcp', '/public/mcp'],
  ['//privileged///mcp', '/privileged/mcp'],
  ['/../../privileged/mcp', '/privileged/mcp'],
  ['/a/b/..', '/a/'],
  ['/a%20b', '/a%20b'],
  ['/a%3ab', '/a%3Ab'],
  ['http://gw:8000/%70rivileged/mcp', '/privileged/mcp'],
  ['http://gw:8000', '/'],
];

for (const [raw, path] of canonical) {
  test(`${raw} is ${path}`, () => assert.is(canonicalTarget(raw).path, path));
}

test('the query is kept as sent', () => {
  assert.equal(canonicalTarget('/migrations/plan?to=v3'), { path: '/migrations/plan', query: '?to=v3' });
});

const unsafe: [string, RegExp][] = [
  ['/privileged%2Fmcp', /encoded slash/],
  ['/privileged%5cmcp', /encoded slash or backslash/],
  ['/privileged\\mcp', /backslash/],
  ['/privileged/mcp%00', /NUL/],
  ['/privileged/%7Fmcp', /control/],
  ['/privileged/\u0001mcp', /control character/],
  ['/privileged/m cp', /space/],
  ['/privilégied/mcp', /non-ASCII/],
  ['/privileged/mcp%2', /malformed/],
  ['/a#b', /fragment/],
  ['*', /neither a path/],
  ['ftp://x/privileged/mcp', /neither a path/],
  ['/x?a=%zz', /query holds a malformed/],
];

for (const [raw, reason] of unsafe) {
  test(`${JSON.stringify(raw)} is refused`, () => {
    try {
      canonicalTarget(raw);
    } catch (err) {
      assert.instance(err, UnsafePathError);
      assert.match((err as Error).message, reason);
      return;
    }
    assert.unreachable(`${raw} was accepted`);
  });
}

test.run();
