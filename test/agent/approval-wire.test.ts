import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { extensionPause, extensionResume, HITL_EXTENSION, InvalidResume, legacyPause, legacyResume, verdictFor, type ActionRequest } from '../../app/agent/approval-wire.js';

const truncate: ActionRequest = { name: 'truncate_table', args: { table: 'orders' }, id: 'call-1' };
const second: ActionRequest = { name: 'truncate_table', args: { table: 'customers' }, id: 'call-2' };

test('0.3 pause: one adk_request_confirmation DataPart per call, marked long-running', () => {
  const [part] = legacyPause([truncate]);
  assert.is(part.data.name, 'adk_request_confirmation');
  assert.equal(part.data.args.originalFunctionCall, { name: 'truncate_table', args: { table: 'orders' }, id: 'call-1' });
  assert.equal(part.data.args.toolConfirmation.confirmed, false);
  assert.is(part.data.args.toolConfirmation.payload, null);
  assert.equal(part.metadata, { kagent_type: 'function_call', kagent_is_long_running: true });
});

test('0.3 resume: approve, reject with a uniform reason, batch with per-call reasons', () => {
  assert.equal(legacyResume([{ decision_type: 'approve' }], [truncate]), { decision_type: 'approve' });
  const rejected = legacyResume([{ decision_type: 'reject', rejection_reason: 'not today' }], [truncate]);
  assert.equal(verdictFor(rejected, 'call-1'), { approved: false, reason: 'not today' });
  const batch = legacyResume([{ decision_type: 'batch', decisions: { 'call-1': 'approve', 'call-2': 'reject' }, rejection_reasons: { 'call-2': 'keep customers' } }], [truncate, second]);
  assert.equal(verdictFor(batch, 'call-1'), { approved: true });
  assert.equal(verdictFor(batch, 'call-2'), { approved: false, reason: 'keep customers' });
});

test('0.3 resume: anything undecidable counts as reject', () => {
  for (const parts of [[], [{ hello: 1 }], [{ decision_type: 'maybe' }], [{ decision_type: 'batch' }], ['approve']]) {
    assert.is(verdictFor(legacyResume(parts, [truncate]), 'call-1').approved, false, JSON.stringify(parts));
  }
  const partial = legacyResume([{ decision_type: 'batch', decisions: { 'call-1': 'approve' } }], [truncate, second]);
  assert.is(verdictFor(partial, 'call-2').approved, false, 'a call left out of a batch is rejected');
  assert.is(verdictFor(legacyResume([{ decision_type: 'batch', decisions: { 'call-1': 'yes' } }], [truncate]), 'call-1').approved, false);
});

test('1.0 hitl/v1 pause and a valid answer', () => {
  const pause = extensionPause([truncate, second]);
  assert.is(pause.type, 'tool_approval_request');
  assert.equal(pause.tools.map((t) => [t.call_id, t.name]), [['call-1', 'truncate_table'], ['call-2', 'truncate_table']]);
  const [a, b] = pause.tools.map((t) => t.id);
  const decision = extensionResume({ type: 'tool_approval_response', approvals: [{ id: a, approved: true }, { id: b, approved: false, rejection_reason: 'no' }] }, pause);
  assert.equal(verdictFor(decision, 'call-1'), { approved: true });
  assert.equal(verdictFor(decision, 'call-2'), { approved: false, reason: 'no' });
});

test('1.0 hitl/v1 answers that must be refused', () => {
  const pause = extensionPause([truncate, second]);
  const [a, b] = pause.tools.map((t) => t.id);
  const refused: [unknown, RegExp][] = [
    [undefined, /carries no metadata/],
    [{ type: 'tool_approval_request', approvals: [] }, /must be "tool_approval_response"/],
    [{ type: 'tool_approval_response' }, /must be a list/],
    [{ type: 'tool_approval_response', approvals: [{ id: a, approved: true }] }, /missing approval-call-2/],
    [{ type: 'tool_approval_response', approvals: [{ id: a, approved: true }, { id: b, approved: true }, { id: 'x', approved: true }] }, /unknown approval id "x"/],
    [{ type: 'tool_approval_response', approvals: [{ id: a, approved: true }, { id: a, approved: false }, { id: b, approved: true }] }, /answered twice/],
    [{ type: 'tool_approval_response', approvals: [{ id: a, approved: 'yes' }, { id: b, approved: true }] }, /boolean "approved"/],
  ];
  for (const [metadata, message] of refused) {
    assert.throws(() => extensionResume(metadata, pause), (err: Error) => err instanceof InvalidResume && message.test(err.message));
  }
});

const HINT = 'The assistant wants to run this tool. Approve or reject it.';

test('both pauses show the same hint, and the 0.3 confirmation is named after its call', () => {
  const [part] = legacyPause([truncate]);
  assert.is(part.data.id, 'confirm-call-1');
  assert.is(part.data.args.toolConfirmation.hint, HINT);
  assert.is(extensionPause([truncate]).hint, HINT);
});

test('0.3 resume: the answer is the data part carrying decision_type, wherever it sits', () => {
  assert.equal(legacyResume([{ kind: 'note' }, { decision_type: 'approve' }], [truncate]), { decision_type: 'approve' });
});

test('0.3 resume: a message without a decision rejects every call, saying no decision was given', () => {
  assert.equal(legacyResume([], [truncate]), { decision_type: 'reject', rejection_reasons: { '*': 'no decision was given' } });
  assert.equal(verdictFor(legacyResume([{ hello: 1 }], [truncate]), 'call-1'), { approved: false, reason: 'no decision was given' });
});

test('0.3 resume: a reject that also lists per-call approvals still rejects every call', () => {
  const decision = legacyResume([{ decision_type: 'reject', decisions: { 'call-1': 'approve' } }], [truncate]);
  assert.equal(decision, { decision_type: 'reject', rejection_reasons: undefined });
  assert.is(verdictFor(decision, 'call-1').approved, false);
  assert.is(verdictFor({ decision_type: 'reject', decisions: { 'call-1': 'approve' } }, 'call-1').approved, false);
});

test('0.3 resume: only string reasons are kept', () => {
  const decision = legacyResume([{ decision_type: 'batch', decisions: {}, rejection_reasons: { 'call-1': 'keep orders', 'call-2': 42 } }], [truncate, second]);
  assert.equal(decision.rejection_reasons, { 'call-1': 'keep orders' });
});

test('an approve-all decision approves any call', () => {
  assert.equal(verdictFor({ decision_type: 'approve' }, 'call-9'), { approved: true });
});

test('1.0 hitl/v1 answers the extension by its kagent URI', () => {
  assert.is(HITL_EXTENSION, 'https://kagent.dev/extensions/hitl/v1');
  assert.throws(() => extensionResume(undefined, extensionPause([truncate])), (err: Error) => err.message === 'the message carries no metadata["https://kagent.dev/extensions/hitl/v1"]');
  assert.throws(() => extensionResume([], extensionPause([truncate])), (err: Error) => err.message === 'the message carries no metadata["https://kagent.dev/extensions/hitl/v1"]');
});

test('1.0 hitl/v1: a reason is kept only for a rejected call, and only when it is a string', () => {
  const pause = extensionPause([truncate, second]);
  const [a, b] = pause.tools.map((t) => t.id);
  const decision = extensionResume({ type: 'tool_approval_response', approvals: [{ id: a, approved: true, rejection_reason: 'unused' }, { id: b, approved: false, rejection_reason: 42 }] }, pause);
  assert.equal(decision, { decision_type: 'batch', decisions: { 'call-1': 'approve', 'call-2': 'reject' }, rejection_reasons: {} });
});

test('1.0 hitl/v1: a malformed approval is refused with its own error, and every missing id is named', () => {
  const pause = extensionPause([truncate, second]);
  const [a] = pause.tools.map((t) => t.id);
  for (const approval of [null, 'approval-call-1', { id: 5, approved: true }, { id: a }]) {
    assert.throws(
      () => extensionResume({ type: 'tool_approval_response', approvals: [approval] }, pause),
      (err: Error) => err instanceof InvalidResume && err.message === 'each approval needs a string "id" and a boolean "approved"',
      JSON.stringify(approval),
    );
  }
  assert.throws(
    () => extensionResume({ type: 'tool_approval_response', approvals: [] }, pause),
    (err: Error) => err instanceof InvalidResume && err.message === 'every pending approval must be answered; missing approval-call-1, approval-call-2',
  );
});

test.run();
