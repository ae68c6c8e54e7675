import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tokenSha256Hex, type ReviewerTokenEntry } from '../contracts/reviewer-tokens.js';

/**
 * The local run's reviewer: a random token made on first start and kept beside the data, so
 * a second `npm start` signs in with the same one. Only its hash goes in the tokens file.
 */
export function localReviewer(dataDir: string): { name: string; token: string; tokensFile: string; sessionSecret: string } {
  mkdirSync(dataDir, { recursive: true });
  const tokensFile = join(dataDir, 'tokens.json');
  const token = keptSecret(join(dataDir, 'reviewer-token'));
  const name = 'platform-reviewer';
  const entries: ReviewerTokenEntry[] = [{ name, groups: ['platform'], sha256: tokenSha256Hex(token) }];
  writeFileSync(tokensFile, JSON.stringify(entries, null, 2));
  // Kept too, so the reviewer stays signed in to the UI across restarts.
  return { name, token, tokensFile, sessionSecret: keptSecret(join(dataDir, 'ui-session-secret')) };
}

function keptSecret(path: string): string {
  if (!existsSync(path)) writeFileSync(path, randomBytes(24).toString('base64url'), { mode: 0o600 });
  return readFileSync(path, 'utf8').trim();
}
