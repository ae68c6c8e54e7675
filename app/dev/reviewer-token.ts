import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../ext-auth/reviewers.js';

/**
 * The local run's reviewer: a random token made on first start and kept beside the data, so
 * a second `npm start` signs in with the same one. Only its hash goes in the tokens file.
 */
export function localReviewer(dataDir: string): { name: string; token: string; tokensFile: string } {
  mkdirSync(dataDir, { recursive: true });
  const tokenFile = join(dataDir, 'reviewer-token');
  const tokensFile = join(dataDir, 'tokens.json');
  if (!existsSync(tokenFile)) writeFileSync(tokenFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  const token = readFileSync(tokenFile, 'utf8').trim();
  const name = 'platform-reviewer';
  writeFileSync(tokensFile, JSON.stringify([{ name, groups: ['platform'], sha256: sha256Hex(token) }], null, 2));
  return { name, token, tokensFile };
}
