import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import type { DashboardOptions } from '../config.js';
import { listen, send } from '../local-http.js';
import { ChangeFeed } from './feed.js';
import { PAGE_CSP, PAGE_HTML } from './page.js';
import type { Dashboard, StateSource } from './source.js';
import { SseClient } from './sse.js';

/** Knobs for tests; the defaults are what a browser needs. */
export interface DashboardTuning {
  /** Least time between two pushes to one client, in ms. */
  pushIntervalMs?: number;
  /** Time between heartbeat comments on idle streams, in ms. */
  heartbeatMs?: number;
  /** How long a node that left or failed stays listed, in ms (see ChangeFeed). */
  departedMs?: number;
}

const PUSH_INTERVAL_MS = 100;
const HEARTBEAT_MS = 15_000;

/** Sent with every response: nothing here is cacheable by others, sniffable or frameable. */
const COMMON_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

type Route = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Serves the read-only dashboard of `server` (a DSNodeServer, or anything
 * else with its StateSource methods) over HTTP:
 *
 *   GET /             the page (self-contained HTML)
 *   GET /api/state    { self, now, nodes: NodeView[], departed: Departed[] }
 *   GET /api/events   server-sent events: `snapshot`, then `change` (see SseClient)
 *
 * GET and HEAD only (405 otherwise); 404 elsewhere. The pages show states
 * only: no network key or private key is in any response.
 */
export async function startDashboard(
  server: StateSource,
  opts: Required<DashboardOptions>,
  tuning: DashboardTuning = {},
): Promise<Dashboard> {
  // Listens from the start, so that a page opened later still sees who left or failed.
  const feed = new ChangeFeed(server, tuning.departedMs).open();
  const clients = new Set<SseClient>();
  const pushIntervalMs = tuning.pushIntervalMs ?? PUSH_INTERVAL_MS;

  const routes: Record<string, Route> = {
    '/': (_req, res) =>
      send(res, 200, 'text/html; charset=utf-8', PAGE_HTML, {
        'Content-Security-Policy': PAGE_CSP,
      }),
    '/api/state': (_req, res) => sendJson(res, feed.payload()),
    '/api/events': (req, res) => {
      if (req.method === 'HEAD') {
        res.writeHead(200, {
          'Content-Type': 'text/event-stream; charset=utf-8',
          'Cache-Control': 'no-store',
        });
        res.end();
        return;
      }
      const client = new SseClient(res, () => feed.payload(), pushIntervalMs);
      const unsubscribe = feed.subscribe((change) => client.change(change));
      clients.add(client);
      res.on('close', () => {
        unsubscribe();
        client.close();
        clients.delete(client);
      });
      client.open();
    },
  };

  const http = createServer((req, res) => {
    for (const [name, value] of Object.entries(COMMON_HEADERS)) res.setHeader(name, value);
    // A body sent with a GET, or with a refused method, is read and dropped.
    req.resume();
    const path = (req.url ?? '/').split('?')[0] as string;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!hostAllowed(req.headers.host, opts.host)) {
      text(res, 403, 'forbidden: this dashboard answers to localhost only');
    } else if (!route) {
      text(res, 404, 'not found');
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      text(res, 405, 'method not allowed: this dashboard is read-only', { Allow: 'GET, HEAD' });
    } else {
      route(req, res);
    }
  });

  const heartbeat = setInterval(() => {
    for (const c of clients) c.heartbeat();
  }, tuning.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();

  try {
    await listen(http, opts.port, opts.host, 'dashboard');
  } catch (err) {
    clearInterval(heartbeat);
    feed.close();
    throw err;
  }
  const port = (http.address() as AddressInfo).port;

  let closing: Promise<void> | null = null;
  return {
    port,
    url: `http://${urlHost(opts.host)}:${port}/`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(heartbeat);
        feed.close();
        for (const c of clients) c.close();
        clients.clear();
        http.close(() => resolve());
        http.closeAllConnections();
      });
      return closing;
    },
  };
}

function text(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  send(res, status, 'text/plain; charset=utf-8', `${message}\n`, headers);
}

function sendJson(res: ServerResponse, value: unknown): void {
  send(res, 200, 'application/json; charset=utf-8', JSON.stringify(value));
}

/** Listens; failures are DsnErrors worded as the node's own (the Node error is the cause). */

const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/**
 * DNS rebinding guard: a web page elsewhere could point its own name at
 * 127.0.0.1 and read a loopback dashboard. Browsers always send that name in
 * Host, so a loopback dashboard answers only to loopback names and IP
 * literals. One bound to a public interface was exposed on purpose.
 */
export function hostAllowed(hostHeader: string | undefined, boundHost: string): boolean {
  if (!isLoopback(boundHost) || hostHeader === undefined) return true;
  const name = hostHeader
    .replace(/:\d*$/, '')
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost') || isIP(name) !== 0;
}

/** Where to point a browser: a wildcard address is reachable through loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
