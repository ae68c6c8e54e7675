import { Hono } from 'hono';
import { HtmlDocument } from '../shared/html-document.js';
import { securityHeaders } from '../shared/security-headers.js';
import { readStaticFiles, serveStaticFiles } from '../shared/static-files.js';
import { GATE_META_KEY } from '../contracts/denial.js';
import { HITL_EXTENSION } from './approval-wire.js';

/** `GET /chat` and its two files; `GET /` leads there, as A2A itself only POSTs to `/`. */
export function chatApp(): Hono {
  const own = (name: string) => new URL(`./assets/${name}`, import.meta.url).pathname;
  const files = readStaticFiles({ 'chat.js': own('chat.js'), 'chat.css': own('chat.css') });
  const app = new Hono();
  app.use('/chat', securityHeaders);
  app.use('/assets/*', securityHeaders);
  app.get('/assets/:name', serveStaticFiles(files));
  app.get('/chat', (c) => c.html(<ChatPage user="local-user" />));
  app.get('/', (c) => c.redirect('/chat'));
  app.get('/favicon.ico', (c) => c.body(null, 204));
  return app;
}

/**
 * The end user's chat: a stand-in for the kagent dashboard when there is no cluster. It
 * speaks A2A 1.0 with the hitl/v1 extension to this agent, from chat.js; the page itself is
 * a shell, and every message and card is built with text nodes, never markup.
 */
export function ChatPage({ user }: { user: string }) {
  return (
    <HtmlDocument title="DBA assistant" styles={['chat.css']} scripts={['chat.js']} bodyData={{ 'data-extension': HITL_EXTENSION, 'data-gate-meta': GATE_META_KEY }}>
      <header class="top">
        <span class="brand">DBA assistant</span>
        <label>
          Signed in as <input id="user" value={user} size={12} aria-label="Your user id" />
        </label>
      </header>
      <main id="main">
        <ol id="conversation" class="conversation" aria-live="polite" aria-label="Conversation"></ol>
        <p id="working" class="working" role="status" hidden></p>
        <form id="compose" class="compose">
          <label for="prompt" class="visually-hidden">
            Message
          </label>
          <input id="prompt" name="prompt" autocomplete="off" placeholder="Try: What's in the orders table?" required />
          <button type="submit">Send</button>
        </form>
        <p class="hint">Try: "What's in the orders table?", "Truncate the orders table.", "Apply migration v3."</p>
      </main>
    </HtmlDocument>
  );
}
