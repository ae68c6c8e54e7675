/**
 * A strict JSON reader for gate decisions. JSON.parse keeps the last of two duplicate keys
 * while other parsers keep the first, so a body like {"method":"ping","method":"tools/call"}
 * could read as harmless here and as a tool call upstream. Duplicates are refused instead.
 */
export class JsonError extends Error {}

/** JSON's four whitespace characters; nothing else may sit between tokens. */
const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

export function parseStrictJson(text: string): unknown {
  let at = 0;
  const fail = (what: string): never => {
    throw new JsonError(`${what} at offset ${at}`);
  };
  const skipSpace = () => {
    while (WHITESPACE.has(text[at])) at++;
  };
  const readString = (): string => {
    const end = scanString(text, at);
    if (end === -1) fail('unterminated or invalid string');
    const value = JSON.parse(text.slice(at, end + 1)) as string;
    at = end + 1;
    return value;
  };
  const readValue = (depth: number): unknown => {
    if (depth > 64) fail('nesting deeper than 64');
    skipSpace();
    const c = text[at];
    if (c === '{') {
      at++;
      const object: Record<string, unknown> = {};
      const seen = new Set<string>();
      skipSpace();
      if (text[at] === '}') return at++, object;
      for (;;) {
        skipSpace();
        if (text[at] !== '"') fail('expected a key');
        const key = readString();
        if (seen.has(key)) fail(`duplicate key ${JSON.stringify(key)}`);
        seen.add(key);
        skipSpace();
        if (text[at++] !== ':') fail('expected ":"');
        Object.defineProperty(object, key, { value: readValue(depth + 1), enumerable: true, writable: true, configurable: true });
        skipSpace();
        if (text[at] === ',') at++;
        else if (text[at] === '}') return at++, object;
        else fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      at++;
      const array: unknown[] = [];
      skipSpace();
      if (text[at] === ']') return at++, array;
      for (;;) {
        array.push(readValue(depth + 1));
        skipSpace();
        if (text[at] === ',') at++;
        else if (text[at] === ']') return at++, array;
        else fail('expected "," or "]"');
      }
    }
    if (c === '"') return readString();
    const literal = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(at, at + 400));
    if (!literal) fail('unexpected character');
    at += literal![0].length;
    return JSON.parse(literal![0]);
  };
  const value = readValue(0);
  skipSpace();
  if (at !== text.length) fail('trailing data');
  return value;
}

/** Index of the closing quote of the string opening at `start`, or -1. */
function scanString(text: string, start: number): number {
  // Stryker disable next-line EqualityOperator: one turn past the end reads NaN, which matches no branch, so the result is -1 either way
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i;
    if (c < 0x20) return -1;
    if (c === 0x5c) i++;
  }
  return -1;
}
