import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateApprovalKeyPair } from '../contracts/approval-token.js';

/**
 * The local agent's key pair for end-user approvals, made on first start and kept beside the
 * data: the agent signs each call its user approved with the private key; the public key is
 * what an MCP server verifies those approvals with.
 */
export function localUserApprovalKeys(dataDir: string): { privateKey: string; publicKey: string } {
  const dir = join(dataDir, 'keys');
  mkdirSync(dir, { recursive: true });
  const privateKey = join(dir, 'user-approval.key');
  const publicKey = join(dir, 'user-approval.pub');
  if (!existsSync(privateKey) || !existsSync(publicKey)) {
    const pair = generateApprovalKeyPair();
    writeFileSync(privateKey, pair.privatePem, { mode: 0o600 });
    writeFileSync(publicKey, pair.publicPem);
  }
  return { privateKey, publicKey };
}
