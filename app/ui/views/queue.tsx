import type { Child } from 'hono/jsx';
import type { PendingCounts } from '../../contracts/admin-api.js';
import { Page, type Viewer } from './layout.js';

/** The queue narrowed to one gate or one tool. */
export interface QueueFilter {
  gate?: string;
  tool?: string;
}

interface QueueProps {
  viewer: Viewer;
  cards: Child[];
  counts: PendingCounts;
  next: string | null;
  filter: QueueFilter;
  flash?: { kind: 'error' | 'info'; text: string };
}

function queueUrl(path: string, query: QueueFilter & { after?: string }): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

/**
 * The link to the rest of the queue: followed, it is the next page; with htmx, reaching it
 * swaps it for the next page's cards and the link after them.
 */
export function NextPage({ next, filter }: { next: string | null; filter: QueueFilter }) {
  if (!next) return null;
  return (
    <a id="next-page" class="next-page" href={queueUrl('/', { ...filter, after: next })} hx-get={queueUrl('/page', { ...filter, after: next })} hx-trigger="revealed" hx-swap="outerHTML">
      Next page
    </a>
  );
}

function CountList({ label, name, counts, filter }: { label: string; name: 'gate' | 'tool'; counts: Record<string, number>; filter: QueueFilter }) {
  return (
    <p class="counts">
      {label}:{' '}
      {Object.entries(counts)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([value, n]) => (
          <>
            {filter[name] === value ? <strong>{value}</strong> : <a href={queueUrl('/', { [name]: value })}>{value}</a>} ({n}){' '}
          </>
        ))}
    </p>
  );
}

/** The queue: the oldest cards first, a page at a time; queue.js keeps it live, and it works without it too. */
export function QueuePage({ viewer, cards, counts, next, filter, flash }: QueueProps) {
  const filtered = Boolean(filter.gate || filter.tool);
  return (
    <Page title="Approval queue" viewer={viewer} current="queue" scripts={['queue.js']}>
      <h1>
        Approval queue <span class="count" id="queue-count">({counts.total} waiting)</span>
      </h1>
      {flash && (
        <p class={`notice ${flash.kind}`} role={flash.kind === 'error' ? 'alert' : 'status'}>
          {flash.text}
        </p>
      )}
      <nav aria-label="Filter the queue" class="queue-counts">
        <CountList label="Gates" name="gate" counts={counts.gates} filter={filter} />
        <CountList label="Tools" name="tool" counts={counts.tools} filter={filter} />
        {filtered && <a href="/">Show every request</a>}
      </nav>
      <p class="live" id="live-status" role="status" aria-live="polite">
        This page updates itself when requests arrive or are decided elsewhere.
      </p>
      <div id="queue" class="queue" data-empty-text="Nothing is waiting for a decision." data-gate={filter.gate} data-tool={filter.tool}>
        {cards.length ? cards : <p class="empty">Nothing is waiting for a decision.</p>}
        <NextPage next={next} filter={filter} />
      </div>
    </Page>
  );
}
