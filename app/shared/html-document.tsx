import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';

interface DocumentProps {
  title: string;
  /** Stylesheets and scripts by name, all served from this process's /assets. */
  styles: string[];
  scripts: string[];
  /** Extra <meta> and the like. */
  head?: Child;
  bodyData?: Record<`data-${string}`, string>;
  children: Child;
}

/**
 * The frame of every HTML page: no inline script or style (the Content-Security-Policy
 * forbids both) and nothing loaded from another origin.
 */
export function HtmlDocument({ title, styles, scripts, head, bodyData = {}, children }: DocumentProps) {
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          {head}
          <title>{title} · hitl-gates</title>
          {styles.map((name) => (
            <link rel="stylesheet" href={`/assets/${name}`} />
          ))}
          {scripts.map((name) => (
            <script src={`/assets/${name}`} defer></script>
          ))}
        </head>
        <body {...bodyData}>{children}</body>
      </html>
    </>
  );
}
