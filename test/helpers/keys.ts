import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateApprovalKeyPair } from '../../app/contracts/approval-token.js';

/** A fresh approval key pair as PEM files in `dir`; `prefix` tells several pairs apart. */
export function writeApprovalKeys(dir: string, prefix = 'approval'): { privateKey: string; publicKey: string } {
  const pair = generateApprovalKeyPair();
  const privateKey = join(dir, `${prefix}.key`);
  const publicKey = join(dir, `${prefix}.pub`);
  writeFileSync(privateKey, pair.privatePem, { mode: 0o600 });
  writeFileSync(publicKey, pair.publicPem);
  return { privateKey, publicKey };
}
