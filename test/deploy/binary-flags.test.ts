// The manifests speak the binary's language. The constructs build each invocation from the
// subcommand's flag spec, so no flag can be misspelt; what is still written by hand, and so
// checked here against the binary's own reading, is the subcommand's name, the `--host` every
// workload adds, an MCP server's own `args`, the HITL_* variables taken from Secrets, the port
// kagent imposes on a BYO agent, every port flag being one the spec says it listens on, and
// durations in the binary's units against the timeouts kagent reads in seconds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agentCommand } from '../../app/agent/command.js';
import { extAuthCommand } from '../../app/ext-auth/command.js';
import { mcpCommand } from '../../app/mcp/command.js';
import type { Subcommand } from '../../app/shared/command.js';
import { commonFlags, envName, parseFlags } from '../../app/shared/flags.js';
import { uiCommand } from '../../app/ui/command.js';
import { find, hitlContainers, label, only, synth } from './synth.js';

const subcommands = new Map<string, Subcommand<any>>([mcpCommand, extAuthCommand, uiCommand, agentCommand].map((c) => [c.name, c]));

/** Parses a container's args as `hitl` would, ignoring the test process's own HITL_* variables. */
function parse(args: string[]) {
  const [name, ...flags] = args;
  const command = subcommands.get(name);
  if (!command) throw new Error(`"${name}" is not a hitl subcommand the deployment expects`);
  return { command, config: parseFlags({ ...command.flags, ...commonFlags }, flags, {}) as Record<string, unknown> };
}

test('every workload runs a real subcommand with flags it accepts', () => {
  for (const workload of hitlContainers(synth())) {
    try {
      parse(workload.args);
    } catch (err) {
      assert.unreachable(`${label(workload.owner)}: ${(err as Error).message}`);
    }
  }
});

test('each port flag is a container port, and each container port is listened on', () => {
  for (const workload of hitlContainers(synth())) {
    const { config } = parse(workload.args);
    const listened = Object.entries(config)
      .filter(([key]) => key === 'port' || key.endsWith('Port'))
      .map(([, value]) => value as number)
      .sort();
    assert.equal(listened, [...workload.ports].sort(), `${label(workload.owner)} listens where its container ports say`);
  }
});

test('environment variables from Secrets are ones the subcommand reads', () => {
  for (const workload of hitlContainers(synth())) {
    const { command } = parse(workload.args);
    const known = Object.keys({ ...command.flags, ...commonFlags }).map(envName);
    for (const { name } of workload.env.filter((e) => e.name.startsWith('HITL_'))) {
      assert.ok(known.includes(name), `${label(workload.owner)}: hitl ${command.name} does not read ${name}`);
    }
  }
});

test('agents wait longer than reviewers may take, by the binary\'s own reading of the durations', () => {
  const objects = synth();
  const extAuth = only(objects, 'Deployment', 'hitl-ext-auth').spec.template.spec.containers[0];
  const parkMs = parse(extAuth.args).config.parkTimeout as number;
  assert.is(parkMs, 10 * 60_000, 'the default park timeout');
  for (const remote of find(objects, 'RemoteMCPServer')) {
    for (const field of ['timeout', 'sseReadTimeout'] as const) {
      const ms = Number.parseInt(remote.spec[field], 10) * 1000;
      assert.ok(ms > parkMs, `${label(remote)} ${field} ${remote.spec[field]} outlasts the park timeout`);
    }
  }
  const byo = only(objects, 'Agent', 'dba-assistant-langgraph').spec.byo.deployment;
  assert.ok((parse(byo.args).config.toolTimeout as number) > parkMs, 'the BYO agent waits longer than the gate too');
});

test.run();
