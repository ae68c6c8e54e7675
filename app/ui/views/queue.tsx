import type { Child } from 'hono/jsx';
import { Page, type Viewer } from './layout.js';

interface QueueProps {
  viewer: Viewer;
  cards: Child[];
  flash?: { kind: 'error' | 'info'; text: string };
}

/** The queue: cards oldest first; queue.js keeps it live, and it works without it too. */
export function QueuePage({ viewer, cards, flash }: QueueProps) {
  return (
    <Page title="Approval queue" viewer={viewer} current="queue" scripts={['queue.js']}>
      <h1>
        Approval queue <span class="count" id="queue-count">({cards.length} waiting)</span>
      </h1>
      {flash && (
        <p class={`notice ${flash.kind}`} role={flash.kind === 'error' ? 'alert' : 'status'}>
          {flash.text}
        </p>
      )}
      <p class="live" id="live-status" role="status" aria-live="polite">
        This page updates itself when requests arrive or are decided elsewhere.
      </p>
      <div id="queue" class="queue" data-empty-text="Nothing is waiting for a decision.">
        {cards.length ? cards : <p class="empty">Nothing is waiting for a decision.</p>}
      </div>
    </Page>
  );
}
