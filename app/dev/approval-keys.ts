import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateApprovalKeyPair } from '../contracts/approval-token.js';

/**
 * Who signs with a local key pair: `approval` is ext-auth's, for platform reviewers'
 * approvals; `user-approval` is the agent's, for its end users' approvals. The MCP server
 * verifies both with the public halves.
 */
export type LocalSigner = 'approval' | 'user-approval';

/** A local run's key pair, made on first start and kept beside the data. */
export function localApprovalKeys(dataDir: string, signer: LocalSigner): { privateKey: string; publicKey: string } {
  const dir = join(dataDir, 'keys');
  mkdirSync(dir, { recursive: true });
  const privateKey = join(dir, `${signer}.key`);
  const publicKey = join(dir, `${signer}.pub`);
  if (!existsSync(privateKey) || !existsSync(publicKey)) {
    const pair = generateApprovalKeyPair();
    writeFileSync(privateKey, pair.privatePem, { mode: 0o600 });
    writeFileSync(publicKey, pair.publicPem);
  }
  return { privateKey, publicKey };
}
