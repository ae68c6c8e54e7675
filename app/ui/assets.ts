import { createRequire } from 'node:module';
import { readStaticFiles, type StaticFile } from '../shared/static-files.js';

/** The queue's own stylesheet and script, and htmx from its npm package. */
export function loadAssets(): Map<string, StaticFile> {
  const own = (name: string) => new URL(`./assets/${name}`, import.meta.url).pathname;
  return readStaticFiles({
    'htmx.min.js': createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js'),
    'hitl.css': own('hitl.css'),
    'queue.js': own('queue.js'),
  });
}
