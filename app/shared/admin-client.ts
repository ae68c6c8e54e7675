/**
 * The ext-auth admin API as the UI uses it, always on behalf of one reviewer: their bearer
 * token, or the identity an authenticating proxy vouched for, is forwarded on every call.
 */
import { REVIEWER_SESSION_HEADER, type OpenedSession, type SessionLimits } from '../contracts/reviewer-session.js';
import { SLACK_USER_HEADER } from '../contracts/slack-bridge.js';
import type { AdminErrorBody, ApprovalRequest, Decision, HistoryPage, HistoryQuery, PendingIds, PendingList, PendingPage, PendingQuery, QueueChange, ReviewerIdentity } from '../contracts/admin-api.js';
import type { Credential } from '../contracts/reviewer-session.js';

/** A non-2xx answer from ext-auth, with its error message. */
export class AdminError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface ProxyHeaders {
  identity: string;
  groups: string;
}

const CALL_TIMEOUT_MS = 5_000;

export class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly proxyHeaders?: ProxyHeaders,
  ) {}

  whoami(as: Credential): Promise<ReviewerIdentity> {
    return this.json('/whoami', as);
  }

  /** Opens the server-side session a sign-in lasts for. */
  async openSession(as: Credential, limits: SessionLimits): Promise<OpenedSession> {
    const response = await this.call('/sessions', as, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(limits) });
    return (await response.json()) as OpenedSession;
  }

  /** Ends the session `as` names, so its cookie opens nothing anywhere any more. */
  async endSession(as: Credential): Promise<void> {
    await this.call('/sessions/current', as, { method: 'DELETE' });
  }

  async pending(as: Credential): Promise<ApprovalRequest[]> {
    return (await this.json<PendingList>('/pending', as)).pending;
  }

  /** The ids of the pending requests, oldest first: all, or up to and including the position `through` (a page's `next`). */
  async pendingIds(as: Credential, through?: string): Promise<string[]> {
    return (await this.json<PendingIds>(through === undefined ? '/pending-ids' : `/pending-ids?${new URLSearchParams({ through })}`, as)).ids;
  }

  /** One page of the queue, oldest first, with the counts of all of it. */
  pendingPage(as: Credential, query: PendingQuery): Promise<PendingPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
    return this.json(`/pending?${params}`, as);
  }

  request(as: Credential, id: string): Promise<ApprovalRequest> {
    return this.json(`/requests/${encodeURIComponent(id)}`, as);
  }

  history(as: Credential, query: HistoryQuery): Promise<HistoryPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
    return this.json(`/history?${params}`, as);
  }

  async decide(as: Credential, id: string, approved: boolean, reason: string): Promise<void> {
    const decision: Decision = { approved, reason };
    await this.call(`/decide/${encodeURIComponent(id)}`, as, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(decision),
    });
  }

  /** The audit export as a stream, passed through to the browser untouched. */
  async audit(as: Credential): Promise<Response> {
    return this.call('/audit.jsonl', as, {}, false);
  }

  /** Queue changes until `signal` aborts or the stream ends; the first item is always 'ready'. */
  async *events(as: Credential, signal: AbortSignal): AsyncGenerator<QueueChange | 'ready'> {
    const response = await this.call('/events', as, { signal }, false);
    for await (const { event, data } of readServerSentEvents(response.body!)) {
      if (event === 'ready') yield 'ready';
      else if (event === 'change') yield JSON.parse(data) as QueueChange;
    }
  }

  async ready(): Promise<boolean> {
    const response = await fetch(`${this.baseUrl}/readyz`, { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    return response.ok;
  }

  private async json<T>(path: string, as: Credential): Promise<T> {
    return (await (await this.call(path, as)).json()) as T;
  }

  private async call(path: string, as: Credential, init: RequestInit = {}, timeout = true): Promise<Response> {
    const headers = new Headers(init.headers);
    if (as.kind === 'bearer') {
      headers.set('authorization', `Bearer ${as.token}`);
      if (as.session) headers.set(REVIEWER_SESSION_HEADER, as.session);
      if (as.slackUser) headers.set(SLACK_USER_HEADER, as.slackUser);
    } else if (this.proxyHeaders) {
      headers.set(this.proxyHeaders.identity, as.name);
      headers.set(this.proxyHeaders.groups, as.groups.join(','));
    }
    const signal = timeout ? AbortSignal.any([AbortSignal.timeout(CALL_TIMEOUT_MS), ...(init.signal ? [init.signal] : [])]) : init.signal;
    const response = await fetch(`${this.baseUrl}${path}`, { ...init, headers, signal });
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as Partial<AdminErrorBody>;
      throw new AdminError(response.status, body.error ?? `ext-auth answered ${response.status}`);
    }
    return response;
  }
}

/** Splits a text/event-stream body into events (comments and ids are not needed here). */
async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) yield { event, data: data.join('\n') };
    }
  }
}
