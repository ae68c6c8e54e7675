import { Writable } from 'node:stream';

/** A stream for a pino logger that keeps each line, parsed, in `lines` for the test to read. */
export function logSink(lines: Record<string, any>[]): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
}
