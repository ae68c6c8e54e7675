/**
 * The gate's strict JSON reader on its own: it reads what JSON.parse reads, refuses what JSON
 * cannot say for certain (duplicate keys, runaway nesting), and names what is wrong and where.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { JsonError, parseStrictJson } from '../../app/ext-auth/strict-json.js';

/** Asserts the reader refuses `text` with its own error, saying exactly `message`. */
function refused(text: string, message: string) {
  assert.throws(
    () => parseStrictJson(text),
    (err: Error) => err instanceof JsonError && err.message === message,
    `${JSON.stringify(text)} should be refused with "${message}"`,
  );
}

const nested = (depth: number, open: string, close: string, inner: string) => `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

test('values read as JSON.parse reads them', () => {
  const texts = [
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"list":[1,2.5,-3,1e3,true,false,null]}}}',
    '1.25',
    '1.5',
    '-0.75',
    '1e+5',
    '2E-2',
    '0',
    '"say \\"hi\\" \\\\ \\u0041"',
    '[]',
    '{}',
    '[[],{}]',
  ];
  for (const text of texts) assert.equal(parseStrictJson(text), JSON.parse(text), text);
});

test('each of the four JSON whitespace characters may sit between tokens', () => {
  assert.equal(parseStrictJson(' {\t"a" :\n[ 1 ,\r2 ] }\r\n'), { a: [1, 2] });
  refused('{"a":\u00a01}', 'unexpected character at offset 5');
});

test('a parsed object is a plain one: its keys listed, its fields assignable and deletable', () => {
  const parsed = parseStrictJson('{"a":1,"b":2}') as Record<string, number>;
  assert.equal(Object.keys(parsed), ['a', 'b']);
  parsed.a = 3;
  delete parsed.b;
  assert.equal(parsed, { a: 3 });
});

test('a "__proto__" key is an own field, as JSON.parse reads it, not the object\'s prototype', () => {
  const parsed = parseStrictJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
  assert.ok(Object.hasOwn(parsed, '__proto__'));
  assert.is(Object.getPrototypeOf(parsed), Object.prototype);
  assert.is((parsed as { polluted?: boolean }).polluted, undefined);
});

test('a duplicate key is refused wherever it sits', () => {
  refused('{"a":1,"a":2}', 'duplicate key "a" at offset 10');
  refused('[{"m":{"k":1,"k":1}}]', 'duplicate key "k" at offset 16');
});

test('nesting is allowed to depth 64, in arrays and in objects, and refused one level deeper', () => {
  assert.ok(parseStrictJson(nested(64, '[', ']', '1')));
  assert.ok(parseStrictJson(nested(64, '{"a":', '}', '1')));
  refused(nested(65, '[', ']', '1'), 'nesting deeper than 64 at offset 65');
  refused(nested(65, '{"a":', '}', '1'), 'nesting deeper than 64 at offset 325');
});

test('a string that does not end, or holds a raw control character, is refused', () => {
  refused('"abc', 'unterminated or invalid string at offset 0');
  refused('{"a', 'unterminated or invalid string at offset 1');
  refused('"a\nb"', 'unterminated or invalid string at offset 0');
  refused('"a\\"', 'unterminated or invalid string at offset 0');
});

test('malformed objects and arrays name what was expected and where', () => {
  refused('{a:1}', 'expected a key at offset 1');
  refused('{"a" 1}', 'expected ":" at offset 6');
  refused('{"a":1 "b":2}', 'expected "," or "}" at offset 7');
  refused('{"a":1', 'expected "," or "}" at offset 6');
  refused('[1 2]', 'expected "," or "]" at offset 3');
  refused('[1', 'expected "," or "]" at offset 2');
});

test('anything that is not a JSON value is an unexpected character where it starts', () => {
  refused('x1', 'unexpected character at offset 0');
  refused('@', 'unexpected character at offset 0');
  refused('', 'unexpected character at offset 0');
  refused('[1,]', 'unexpected character at offset 3');
  refused('01', 'trailing data at offset 1');
  refused('1.', 'trailing data at offset 1');
  refused('TRUE', 'unexpected character at offset 0');
});

test('anything after the value is trailing data', () => {
  refused('{} {}', 'trailing data at offset 3');
  refused('1 x', 'trailing data at offset 2');
});

test.run();
