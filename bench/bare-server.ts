/**
 * The baseline of the pass-through bench: a bare @grpc/grpc-js server on the gate's proto that
 * answers every Check OK at once, in a process of its own as the gate is. It reports its port
 * over IPC and stops when the bench disconnects.
 */
import * as grpc from '@grpc/grpc-js';
import { authorizationService } from '../app/contracts/ext-authz.js';

const server = new grpc.Server();
server.addService(authorizationService().service, {
  Check: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, { status: { code: 0 } }),
});
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.send!({ port });
});
process.on('disconnect', () => {
  server.forceShutdown();
  process.exit(0);
});
