import type { Child } from 'hono/jsx';
import { HtmlDocument } from '../../shared/html-document.js';

export interface Viewer {
  name: string;
  csrf: string;
}

interface PageProps {
  title: string;
  viewer?: Viewer;
  current?: 'queue' | 'history';
  /** Scripts beyond htmx, from /assets. */
  scripts?: string[];
  children: Child;
}

/** Every queue page: htmx served from this process, and a skip link for keyboard users. */
export function Page({ title, viewer, current, scripts = [], children }: PageProps) {
  const htmxConfig = <meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}' />;
  return (
    <HtmlDocument title={title} styles={['hitl.css']} scripts={['htmx.min.js', ...scripts]} head={htmxConfig}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">hitl-gates · platform approvals</span>
        {viewer && (
          <nav aria-label="Pages">
            <a href="/" aria-current={current === 'queue' ? 'page' : undefined}>
              Queue
            </a>
            <a href="/history" aria-current={current === 'history' ? 'page' : undefined}>
              History
            </a>
            <span class="who">
              Signed in as <strong>{viewer.name}</strong>
            </span>
            <form method="post" action="/sign-out" class="inline">
              <input type="hidden" name="_csrf" value={viewer.csrf} />
              <button type="submit" class="link">
                Sign out
              </button>
            </form>
          </nav>
        )}
      </header>
      <main id="main">{children}</main>
    </HtmlDocument>
  );
}
