import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateApprovalKeyPair } from '../contracts/approval-token.js';

/**
 * The local run's approval key pair, made on first start and kept beside the data: ext-auth
 * gets the private key to sign approvals, the MCP server the public key to verify them.
 */
export function localApprovalKeys(dataDir: string): { privateKey: string; publicKey: string } {
  const dir = join(dataDir, 'keys');
  mkdirSync(dir, { recursive: true });
  const privateKey = join(dir, 'approval.key');
  const publicKey = join(dir, 'approval.pub');
  if (!existsSync(privateKey) || !existsSync(publicKey)) {
    const pair = generateApprovalKeyPair();
    writeFileSync(privateKey, pair.privatePem, { mode: 0o600 });
    writeFileSync(publicKey, pair.publicPem);
  }
  return { privateKey, publicKey };
}
