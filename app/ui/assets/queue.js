// Keeps the reviewer queue live: cards arrive and leave over Server-Sent Events, and the
// waiting times and timeout countdowns tick. Without this script the page still works; it
// just needs a reload to show new requests.
(() => {
  const queue = document.getElementById('queue');
  const count = document.getElementById('queue-count');
  const live = document.getElementById('live-status');

  function span(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const pad = (n) => String(n).padStart(2, '0');
    if (h) return `${h}h ${pad(m)}m`;
    if (m) return `${m}m ${pad(s % 60)}s`;
    return `${s % 60}s`;
  }

  function tick() {
    const now = Date.now();
    for (const el of document.querySelectorAll('[data-since]')) el.textContent = span(now - Date.parse(el.dataset.since));
    for (const el of document.querySelectorAll('[data-until]')) el.textContent = span(Date.parse(el.dataset.until) - now);
  }
  setInterval(tick, 1000);

  if (!queue) return;

  // The page holds the queue's last cards once no next-page link is left; until then new
  // requests belong to a later page (the link brings them, in order), not at the end of this one.
  const atEnd = () => !document.getElementById('next-page');
  const filtered = () => Boolean(queue.dataset.gate || queue.dataset.tool);
  const belongsHere = (card) =>
    (!queue.dataset.gate || card.dataset.gate === queue.dataset.gate) && (!queue.dataset.tool || card.dataset.tool === queue.dataset.tool);

  function recount() {
    const cards = queue.querySelectorAll('article.card').length;
    // Only with the whole queue on the page do its cards count it; otherwise the server's total stands.
    if (count && atEnd() && !filtered()) count.textContent = `(${cards} waiting)`;
    const empty = queue.querySelector('.empty');
    if (cards === 0 && !empty) {
      const p = document.createElement('p');
      p.className = 'empty';
      p.textContent = queue.dataset.emptyText;
      queue.append(p);
    } else if (cards > 0 && empty) {
      empty.remove();
    }
  }

  function announce(text) {
    if (live) live.textContent = text;
  }

  // Cards' HTML was rendered and escaped by the server from the reviewer's own session.
  function upsert(html) {
    const template = document.createElement('template');
    template.innerHTML = html.trim();
    for (const card of [...template.content.children]) {
      const existing = document.getElementById(card.id);
      if (existing) existing.replaceWith(card);
      else if (!atEnd() || !belongsHere(card)) continue;
      else {
        queue.append(card);
        announce(`New request: ${card.dataset.tool}`);
      }
      window.htmx?.process(card);
    }
    tick();
    recount();
  }

  // Changes made before the stream was (re)connected were missed: drop the cards no longer
  // waiting and fetch only the ones this page lacks.
  async function reconcile() {
    // A page holding only the start of the queue checks its cards as far as the last of them.
    const next = document.getElementById('next-page');
    const through = next && new URL(next.href).searchParams.get('after');
    const waiting = new Set(await (await fetch(through ? `/pending-ids?${new URLSearchParams({ through })}` : '/pending-ids')).json());
    for (const card of queue.querySelectorAll('article.card')) {
      if (!waiting.has(card.id.slice('card-'.length))) card.remove();
    }
    const missing = [...waiting].filter((id) => !document.getElementById(`card-${id}`));
    if (missing.length && atEnd() && !filtered()) {
      const query = new URLSearchParams(missing.map((id) => ['id', id]));
      upsert(await (await fetch(`/cards?${query}`)).text());
    }
    recount();
  }

  function remove(id) {
    const card = document.getElementById(`card-${id}`);
    // Keep a card whose own reviewer is typing or reading a refusal; otherwise it leaves.
    if (card && !card.querySelector('.notice.error')) {
      card.remove();
      announce('A request was decided and left the queue.');
    }
    recount();
  }

  const source = new EventSource('/events');
  source.addEventListener('ready', () => {
    reconcile().then(
      () => (document.body.dataset.live = 'connected'),
      () => (document.body.dataset.live = 'reconnecting'),
    );
  });
  source.addEventListener('card', (event) => upsert(event.data));
  source.addEventListener('gone', (event) => remove(event.data));
  source.addEventListener('error', () => {
    document.body.dataset.live = 'reconnecting';
  });
  document.body.addEventListener('htmx:afterSwap', recount);
})();
