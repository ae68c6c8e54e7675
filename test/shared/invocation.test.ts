import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agentFlags } from '../../app/agent/flags.js';
import { DEFAULT_PORTS } from '../../app/contracts/ports.js';
import { extAuthFlags } from '../../app/ext-auth/flags.js';
import { gatewayFlags } from '../../app/gateway/flags.js';
import { mcpFlags } from '../../app/mcp/flags.js';
import { parseFlags } from '../../app/shared/flags.js';
import { argv, configWith, listeningPorts } from '../../app/shared/invocation.js';
import { uiFlags } from '../../app/ui/flags.js';

test('an invocation writes each value so that its flag reads the same value back', () => {
  const given = { grpcPort: 0, hold: 150_000, parkTimeout: 1_500, redactHeaders: ['x-a', 'x-b'], allowAnonymous: true, denyAs: 'http' as const };
  const args = argv(extAuthFlags, given);
  assert.equal(args, ['--grpc-port', '0', '--hold', '150s', '--park-timeout', '1500ms', '--redact-headers', 'x-a', '--redact-headers', 'x-b', '--allow-anonymous', '--deny-as', 'http']);
  const parsed = parseFlags(extAuthFlags, args, {});
  assert.equal({ grpcPort: parsed.grpcPort, hold: parsed.hold, parkTimeout: parsed.parkTimeout, redactHeaders: parsed.redactHeaders, allowAnonymous: parsed.allowAnonymous, denyAs: parsed.denyAs }, given);
});

test('a switch turned off is written as =false; an unset value is left to the default; pairs are KEY=VALUE', () => {
  assert.equal(argv(mcpFlags, { noApprovalCheck: false, approvalVerifyKey: undefined }), ['--no-approval-check=false']);
  const args = argv(gatewayFlags, { context: [['gate', 'platform'], ['approvals', '2']] });
  assert.equal(args, ['--context', 'gate=platform', '--context', 'approvals=2']);
  assert.equal(parseFlags(gatewayFlags, args, {}).context, [['gate', 'platform'], ['approvals', '2']]);
});

test('a flag the spec lacks is an error, not a silently ignored argument', () => {
  assert.throws(() => argv(mcpFlags, { grpcPort: 1 } as never), /no flag grpcPort/);
});

test('the ports a service listens on come from its spec: given, or the defaults', () => {
  assert.equal(listeningPorts(extAuthFlags), [
    { name: 'grpc', flag: 'grpc-port', port: DEFAULT_PORTS.extAuthGrpc },
    { name: 'admin', flag: 'admin-port', port: DEFAULT_PORTS.extAuthAdmin },
  ]);
  assert.equal(listeningPorts(uiFlags, { port: 9999 }), [{ name: 'http', flag: 'port', port: 9999 }]);
  assert.equal(listeningPorts(agentFlags).map((p) => p.port), [DEFAULT_PORTS.agent]);
});

test('each service reaches the others at their default ports by default', () => {
  assert.is(new URL(uiFlags.extAuthUrl.default).port, String(extAuthFlags.adminPort.default));
  assert.is(new URL(uiFlags.mcpUrl.default).port, String(mcpFlags.port.default));
  assert.is(new URL(gatewayFlags.upstream.default).port, String(mcpFlags.port.default));
  assert.is(gatewayFlags.extAuth.default.split(':')[1], String(extAuthFlags.grpcPort.default));
  assert.is(new URL(agentFlags.gatewayUrl.default).port, String(gatewayFlags.port.default));
});

test('a configuration is every default, as the binary takes it with no flags and no environment, then the overrides', () => {
  const config = configWith(extAuthFlags, { hold: 1_000, logLevel: 'silent' });
  assert.is(config.hold, 1_000);
  assert.is(config.logLevel, 'silent');
  assert.is(config.parkTimeout, 600_000);
  assert.is(config.host, '0.0.0.0');
  assert.equal(config.redactHeaders, []);
});

test.run();
