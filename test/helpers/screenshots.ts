import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the browser tests save their screenshots. The README's pictures in docs/img are
 * refreshed only on request (HITL_UPDATE_SCREENSHOTS=1), so `npm test` leaves the working tree
 * as it found it; otherwise they go to a temporary folder, where a failing run can still be looked at.
 */
const folder =
  process.env.HITL_UPDATE_SCREENSHOTS === '1'
    ? (mkdirSync('docs/img', { recursive: true }), 'docs/img')
    : mkdtempSync(join(tmpdir(), 'hitl-screenshots-'));

export const screenshotPath = (name: string): string => join(folder, name);
