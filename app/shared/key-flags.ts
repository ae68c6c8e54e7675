import type { KeyObject } from 'node:crypto';
import { ApprovalTokenError, readSigningKey, readVerifyKey } from '../contracts/approval-token.js';
import { ConfigError } from './flags.js';

/** Reads the Ed25519 key a flag names; a missing or wrong key stops the process, naming the flag. */
export function keyFromFlag(flag: string, file: string, kind: 'private' | 'public'): KeyObject {
  try {
    return kind === 'private' ? readSigningKey(file) : readVerifyKey(file);
  } catch (err) {
    if (err instanceof ApprovalTokenError) throw new ConfigError(flag, err.message);
    throw err;
  }
}
