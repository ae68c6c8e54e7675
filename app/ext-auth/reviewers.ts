/**
 * Who is calling the admin API. A reviewer proves who they are with a bearer token whose
 * SHA-256 is listed in the tokens file (so the file holds no secret), or, when explicitly
 * enabled, through an identity header set by a trusted authenticating proxy.
 *
 * The Slack bridge (`hitl ui --slack-…`) is the one caller that acts for someone else: its
 * entry says `"slackBridge": true`, it names the Slack user whose signed click it verified,
 * and the reviewer whose entry lists that user under `slack` is who decides. The mapping lives
 * here, beside the reviewers' groups, so nothing from Slack's payload but the user id counts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { MiddlewareHandler } from 'hono';
import { ConfigError } from '../shared/flags.js';
import { SLACK_USER_HEADER } from '../contracts/slack-bridge.js';
import { nameKey } from '../shared/names.js';

export interface Reviewer {
  name: string;
  groups: string[];
}

interface TokenEntry extends Reviewer {
  sha256: Buffer;
  /** The Slack user id (U… or W…) whose clicks in Slack are this reviewer's decisions. */
  slack?: string;
  /** This token is the Slack bridge's: it may act for the reviewer a Slack user id maps to. */
  slackBridge: boolean;
}

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,30}$/;

export interface ReviewerAuthOptions {
  tokensFile?: string;
  /** Header carrying the reviewer's name, trusted only when set. */
  identityHeader?: string;
  /** Header carrying that reviewer's comma-separated groups. */
  groupsHeader: string;
  /**
   * Called after the tokens file changed on disk and was read again, with the SHA-256 of every
   * token it now lists, or with the reason it could not be read (then no token is accepted).
   */
  onTokensChanged?: (listed: { sha256: string[] } | { problem: string }) => void;
}

export function loadTokens(path: string): TokenEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError('tokens-file', `cannot read ${path}: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new ConfigError('tokens-file', `${path} must hold a JSON array`);
  const entries = parsed.map((entry, i): TokenEntry => {
    const ok =
      typeof entry?.name === 'string' &&
      entry.name.trim() !== '' &&
      Array.isArray(entry.groups) &&
      entry.groups.every((g: unknown) => typeof g === 'string') &&
      typeof entry.sha256 === 'string' &&
      /^[0-9a-f]{64}$/i.test(entry.sha256);
    if (!ok) throw new ConfigError('tokens-file', `entry ${i} of ${path} needs name, groups (strings) and sha256 (64 hex digits)`);
    if (entry.slack !== undefined && !(typeof entry.slack === 'string' && SLACK_USER_ID.test(entry.slack))) {
      throw new ConfigError('tokens-file', `entry ${i} of ${path}: "slack" must be a Slack user id such as U012AB3CD`);
    }
    if (entry.slackBridge !== undefined && typeof entry.slackBridge !== 'boolean') {
      throw new ConfigError('tokens-file', `entry ${i} of ${path}: "slackBridge" must be true or false`);
    }
    // The bridge decides only as the reviewer a signed Slack click maps to; with groups of its
    // own it could also approve as itself, a reviewer no human stands behind.
    if (entry.slackBridge === true && (entry.groups.length > 0 || entry.slack !== undefined)) {
      throw new ConfigError('tokens-file', `entry ${i} of ${path}: the Slack bridge's entry must have no groups and no "slack" id, so it can never decide as itself`);
    }
    return { name: entry.name, groups: entry.groups, sha256: Buffer.from(entry.sha256, 'hex'), slack: entry.slack, slackBridge: entry.slackBridge === true };
  });
  const byKey = new Map<string, string>();
  for (const { name } of entries) {
    const earlier = byKey.get(nameKey(name));
    if (earlier !== undefined) {
      throw new ConfigError('tokens-file', `${path} names ${JSON.stringify(earlier)} and ${JSON.stringify(name)}, which are the same name; a reviewer must be listed once`);
    }
    byKey.set(nameKey(name), name);
  }
  const bySlack = new Map<string, string>();
  for (const { name, slack } of entries) {
    if (slack === undefined) continue;
    const earlier = bySlack.get(slack);
    if (earlier !== undefined) throw new ConfigError('tokens-file', `${path} maps Slack user ${slack} to both ${JSON.stringify(earlier)} and ${JSON.stringify(name)}`);
    bySlack.set(slack, name);
  }
  return entries;
}

/**
 * The tokens file as it is on disk now: read again whenever it changes (a Kubernetes Secret
 * update, or an edit), so removing a token revokes it without a restart. A file that can no
 * longer be read accepts no token until it is fixed: on a gate, doubt means deny.
 */
class TokensFile {
  private entries: TokenEntry[];
  private version: string;

  constructor(
    private readonly path: string,
    private readonly onChanged: ReviewerAuthOptions['onTokensChanged'],
  ) {
    this.entries = loadTokens(path);
    this.version = this.versionOnDisk();
  }

  current(): TokenEntry[] {
    const version = this.versionOnDisk();
    if (version === this.version) return this.entries;
    this.version = version;
    try {
      this.entries = loadTokens(this.path);
      this.onChanged?.({ sha256: this.entries.map((e) => e.sha256.toString('hex')) });
    } catch (err) {
      this.entries = [];
      this.onChanged?.({ problem: (err as Error).message });
    }
    return this.entries;
  }

  private versionOnDisk(): string {
    try {
      const stat = statSync(this.path);
      return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      // Stryker disable next-line StringLiteral: any text that no file's inode:size:mtime can be marks the file as missing
      return 'missing';
    }
  }
}

/** Sets c.get('reviewer') or answers 401. */
export function requireReviewer(options: ReviewerAuthOptions): MiddlewareHandler<{ Variables: { reviewer: Reviewer } }> {
  const tokens = options.tokensFile ? new TokensFile(options.tokensFile, options.onTokensChanged) : undefined;
  return async (c, next) => {
    const listed = tokens?.current() ?? [];
    const entry = fromBearer(c.req.header('authorization'), listed);
    const reviewer = entry ? { name: entry.name, groups: entry.groups } : fromProxy(c.req.raw.headers, options.identityHeader, options.groupsHeader);
    if (!reviewer) {
      return c.json({ error: 'a reviewer credential is required' }, 401, { 'www-authenticate': 'Bearer realm="hitl"' });
    }
    const slackUser = c.req.header(SLACK_USER_HEADER);
    if (slackUser === undefined) {
      c.set('reviewer', reviewer);
      return next();
    }
    if (!entry?.slackBridge) return c.json({ error: `only the Slack bridge's token may send ${SLACK_USER_HEADER}` }, 403);
    const mapped = listed.find((t) => t.slack === slackUser);
    if (!mapped) return c.json({ error: `Slack user ${slackUser} is not mapped to a reviewer, so cannot decide here; ask for a "slack" entry in the reviewers' tokens file` }, 403);
    c.set('reviewer', { name: mapped.name, groups: mapped.groups });
    await next();
  };
}

function fromBearer(header: string | undefined, tokens: TokenEntry[]): TokenEntry | undefined {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  if (!match) return undefined;
  const digest = createHash('sha256').update(match[1]).digest();
  return tokens.find((t) => timingSafeEqual(t.sha256, digest));
}

/** Header names match in any case: Headers.get ignores it. */
function fromProxy(headers: Headers, identityHeader: string | undefined, groupsHeader: string): Reviewer | undefined {
  if (!identityHeader) return undefined;
  // Headers already strips the whitespace around a value.
  const name = headers.get(identityHeader);
  if (!name) return undefined;
  const groups = (headers.get(groupsHeader) ?? '').split(',').map((g) => g.trim()).filter(Boolean);
  return { name, groups };
}
