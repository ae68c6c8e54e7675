/**
 * `GET /audit.jsonl`: the chat decisions' hash chain as JSON lines, for `hitl agent
 * verify-audit --file`. It names every user's decisions and arguments, so it is served only
 * to a caller presenting the `--audit-token`; without one configured it is not served at all.
 */
import { Hono } from 'hono';
import { createHash, timingSafeEqual } from 'node:crypto';
import { exportLine } from '../shared/audit-chain.js';
import type { DecisionAudit } from './decision-audit.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function auditExportApp(audit: DecisionAudit, auditToken: string | undefined): Hono {
  const app = new Hono();
  app.get('/audit.jsonl', async (c) => {
    if (!auditToken) return c.json({ error: 'the audit export is off: start the agent with --audit-token' }, 404);
    const given = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    // Compared as digests, so the comparison takes the same time whatever the length.
    if (!given || !timingSafeEqual(digest(given), digest(auditToken))) {
      return c.json({ error: 'the audit export needs the audit token as a bearer token' }, 401, { 'www-authenticate': 'Bearer realm="hitl-agent-audit"' });
    }
    const lines = (await audit.chain()).map(exportLine);
    return c.body(lines.join('\n') + (lines.length ? '\n' : ''), 200, {
      'content-type': 'application/x-ndjson',
      'content-disposition': 'attachment; filename="hitl-agent-audit.jsonl"',
    });
  });
  return app;
}
