import type { ServerResponse } from 'node:http';
import type { Change } from './feed.js';
import type { StatePayload } from './state.js';
import { Throttle } from './throttle.js';

/** Most change records carried by one push; the snapshot itself is always whole. */
const MAX_EVENTS_PER_PUSH = 100;

/** Milliseconds the browser waits before reconnecting a dropped stream. */
const RETRY_MS = 2000;

/**
 * One browser on GET /api/events (server-sent events):
 *
 * - `snapshot` on connect: the same JSON as GET /api/state;
 * - `change` after changes: `{ events: [{ kind, node }], ...state }`, the
 *   whole fresh state plus what happened since the last push. At most one
 *   push per `intervalMs`, so a node updating 1000 times a second costs the
 *   browser ten renders; a client that cannot keep up (its socket buffer is
 *   full) is skipped until it drains, which loses nothing since each push
 *   carries the whole state;
 * - a `: ping` comment as a heartbeat, so proxies keep the stream open.
 */
export class SseClient {
  private events: Change[] = [];
  private dropped = 0;
  private readonly throttle: Throttle;
  private closed = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly state: () => StatePayload,
    intervalMs: number,
  ) {
    this.throttle = new Throttle(() => this.push(), intervalMs);
    res.on('drain', () => this.throttle.trigger());
  }

  open(): void {
    this.res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      // nginx and similar proxies would otherwise buffer the stream.
      'X-Accel-Buffering': 'no',
    });
    this.res.write(`retry: ${RETRY_MS}\n\n`);
    this.send('snapshot', JSON.stringify(this.state()));
  }

  change(change: Change): void {
    if (this.closed) return;
    if (this.events.length >= MAX_EVENTS_PER_PUSH) {
      this.events.shift();
      this.dropped++;
    }
    this.events.push(change);
    this.throttle.trigger();
  }

  heartbeat(): void {
    if (!this.closed) this.res.write(': ping\n\n');
  }

  /** Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.throttle.cancel();
    this.res.end();
  }

  private push(): void {
    if (this.closed || this.events.length === 0) return;
    if (this.res.writableNeedDrain) return; // 'drain' triggers the push again
    const body = {
      events: this.events,
      ...(this.dropped > 0 && { dropped: this.dropped }),
      ...this.state(),
    };
    this.events = [];
    this.dropped = 0;
    this.send('change', JSON.stringify(body));
  }

  private send(event: string, json: string): void {
    // JSON.stringify leaves no raw newline in its output, so one data line is enough.
    this.res.write(`event: ${event}\ndata: ${json}\n\n`);
  }
}
