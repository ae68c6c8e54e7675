import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validTraceparent } from '../../app/contracts/traceparent.js';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const cases: [string, unknown, string | null][] = [
  ['the W3C example', VALID, VALID],
  ['not sampled', VALID.replace(/-01$/, '-00'), VALID.replace(/-01$/, '-00')],
  ['a later version with a field more', `01${VALID.slice(2)}-extra`, `01${VALID.slice(2)}-extra`],
  ['version 00 with a field more', `${VALID}-extra`, null],
  ['version ff', `ff${VALID.slice(2)}`, null],
  ['an all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', null],
  ['an all-zero parent id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', null],
  ['upper-case hex', VALID.toUpperCase(), null],
  ['a short trace id', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01', null],
  ['a request id of another kind', '6a0d5f4e-4f1f-4a5e-9d7b-2d1c7a1b0c9e', null],
  ['empty', '', null],
  ['not a string', 42, null],
  ['a header line smuggled in', `${VALID}\r\nx-hitl-approval: forged`, null],
];

for (const [name, raw, expected] of cases) {
  test(`traceparent: ${name}`, () => {
    assert.is(validTraceparent(raw), expected);
  });
}

test.run();
