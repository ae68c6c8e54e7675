import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Env } from 'hono';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Logger } from './log.js';

export interface Listening {
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish, and cuts what is left at the deadline. */
  close(deadlineMs?: number): Promise<void>;
}

/**
 * How long in-flight requests may run once a server stops: well inside the process's own
 * shutdown deadline, so a request held open (a parked call, a live stream) is cut and the
 * process still exits cleanly.
 */
const DRAIN_MS = 5_000;

export interface OpsOptions {
  log: Logger;
  /** Dependencies ready (database reachable, upstream known); drives /readyz. */
  ready: () => Promise<boolean>;
}

/**
 * Wraps a service's app with what every HTTP subcommand has: `/healthz`, `/readyz` and one
 * structured log line per request.
 */
export function withOps<E extends Env>(app: Hono<E>, { log, ready }: OpsOptions): Hono {
  const root = new Hono();
  root.use(async (c, next) => {
    const started = performance.now();
    await next();
    const ms = Math.round((performance.now() - started) * 10) / 10;
    const path = c.req.path;
    const quiet = path === '/healthz' || path === '/readyz' || path === '/metrics';
    log[quiet ? 'debug' : 'info']({ method: c.req.method, path, status: c.res.status, ms }, 'request');
  });
  root.get('/healthz', (c) => c.json({ status: 'ok' }));
  root.get('/readyz', async (c) => {
    const ok = await ready().catch(() => false);
    return c.json({ status: ok ? 'ready' : 'not ready' }, ok ? 200 : 503);
  });
  root.route('/', app);
  return root;
}

/** How a busy port is reported everywhere: the port, and the flag that moves it. */
export function portInUse(port: number, host: string, flag: string): string {
  return `port ${port} on ${host} is in use; choose another with --${flag}`;
}

/** Listens on host:port; a port in use is reported naming `flag`, the option that changes it. */
export function listen(app: Hono, port: number, host: string, flag = 'port'): Promise<Listening> {
  return new Promise((resolve, reject) => {
    let server: ServerType;
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') err.message = portInUse(port, host, flag);
      reject(err);
    };
    server = serve({ fetch: app.fetch, port, hostname: host }, (info: AddressInfo) => {
      server.off('error', onError);
      const draining = closeWhenIdleAfterStop(server as Server);
      const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
      resolve({
        url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${info.port}`,
        port: info.port,
        close: (deadlineMs = DRAIN_MS) => {
          draining.start();
          return closeServer(server as Server, deadlineMs);
        },
      });
    });
    server.once('error', onError);
  });
}

/**
 * `server.close()` ends the connections idle at that moment; a keep-alive connection whose
 * response finishes later (a live stream ended by the shutdown) would stay open until its
 * keep-alive timeout and hold the process for seconds. Once stopping, each finished response
 * closes what has gone idle.
 */
function closeWhenIdleAfterStop(server: Server): { start(): void } {
  let stopping = false;
  server.on('request', (_req, res) => {
    res.once('finish', () => {
      if (stopping) setImmediate(() => server.closeIdleConnections());
    });
  });
  return {
    start() {
      stopping = true;
    },
  };
}

function closeServer(server: Server, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), deadlineMs);
    cut.unref();
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}
