/**
 * Static files a page needs, read once at start and served by name with an ETag. Each
 * service keeps its own in an `assets/` folder beside its code; the build copies them next to
 * the bundle, so pages never load anything from a CDN and air-gapped clusters work.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Handler } from 'hono';

export interface StaticFile {
  body: Buffer;
  contentType: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** Reads `name → path` pairs; the content type comes from the name's extension. */
export function readStaticFiles(files: Record<string, string>): Map<string, StaticFile> {
  return new Map(
    Object.entries(files).map(([name, path]) => {
      const body = readFileSync(path);
      const contentType = TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
      return [name, { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` }];
    }),
  );
}

/** `GET /assets/:name`. */
export function serveStaticFiles(files: Map<string, StaticFile>): Handler {
  return (c) => {
    const file = files.get(c.req.param('name') ?? '');
    if (!file) return c.text('not found', 404);
    const headers = { etag: file.etag, 'cache-control': 'no-cache' };
    if (c.req.header('if-none-match') === file.etag) return c.body(null, 304, headers);
    return c.body(new Uint8Array(file.body), 200, { ...headers, 'content-type': file.contentType });
  };
}
