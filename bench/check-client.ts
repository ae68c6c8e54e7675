/**
 * The gRPC side of the gate benchmarks, in a process of its own as a gateway is: the bench
 * sends it commands over IPC and it answers with the times it saw. Times are
 * process.hrtime (the system's monotonic clock), comparable between the two processes.
 */
import { checkRequest, grpcClient, toolCall, type CheckResult } from '../test/helpers/ext-auth.js';
import { drive } from './stats.js';

export type ClientCommand =
  | { op: 'pass'; port: number; total: number; concurrency: number }
  /** `count` tool calls, each from its own requester unless `requester` is given; answered as each returns. */
  | { op: 'calls'; port: number; tag: string; count: number; requester?: string };

export type ClientReport =
  | { op: 'passed'; perSecond: number; p50: number; p99: number; seconds: number }
  | { op: 'sent'; tag: string; at: number }
  | { op: 'answered'; tag: string; index: number; at: number; status: string }
  | { op: 'failed'; tag: string; message: string };

export const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

const clients = new Map<number, ReturnType<typeof grpcClient>>();
const clientFor = (port: number) => clients.get(port) ?? clients.set(port, grpcClient(port)).get(port)!;
const report = (message: ClientReport) => process.send!(message);
const ping = checkRequest({ body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });

const statusOf = (answer: CheckResult) => (answer.code === 0 ? 'allowed' : (answer.toolError?.details.status ?? `code ${answer.code}`));

process.on('message', async (command: ClientCommand) => {
  const client = clientFor(command.port);
  if (command.op === 'pass') {
    const summary = await drive(command.concurrency, command.total, async () => {
      const answer = await client.check(ping).result;
      if (answer.code !== 0) throw new Error('ping was not passed');
    });
    return report({ op: 'passed', perSecond: summary.perSecond, p50: summary.p50, p99: summary.p99, seconds: summary.seconds });
  }
  report({ op: 'sent', tag: command.tag, at: monotonicMs() });
  for (let i = 0; i < command.count; i++) {
    const requester = command.requester ?? `${command.tag}-${i}`;
    const body = toolCall('run_migration', { version: 'v3', ticket: `${command.tag}-${i}` }, i);
    client
      .check(checkRequest({ body, headers: { 'x-user-id': requester } }))
      .result.then(
        (answer) => report({ op: 'answered', tag: command.tag, index: i, at: monotonicMs(), status: statusOf(answer) }),
        (err: Error) => report({ op: 'failed', tag: command.tag, message: err.message }),
      );
  }
});

process.on('disconnect', () => {
  for (const client of clients.values()) client.close();
  process.exit(0);
});
