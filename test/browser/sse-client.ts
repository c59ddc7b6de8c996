/** One server-sent event as the browser's EventSource would deliver it. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * A minimal EventSource for tests, over fetch: collects events and comments
 * as they arrive; `next` waits for one that matches (no polling).
 */
export class SseStream {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  headers = new Headers();
  private readonly abort = new AbortController();
  private readonly waiters = new Set<() => void>();
  private buffer = '';
  private ended = false;

  static async open(url: string): Promise<SseStream> {
    const s = new SseStream();
    const res = await fetch(url, { signal: s.abort.signal });
    s.status = res.status;
    s.headers = res.headers;
    void s.pump(res);
    return s;
  }

  private async pump(res: Response): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        this.buffer += decoder.decode(chunk, { stream: true });
        let end = this.buffer.indexOf('\n\n');
        while (end >= 0) {
          this.parse(this.buffer.slice(0, end));
          this.buffer = this.buffer.slice(end + 2);
          end = this.buffer.indexOf('\n\n');
        }
        this.notify();
      }
    } catch {
      // aborted
    }
    this.ended = true;
    this.notify();
  }

  private parse(block: string): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length > 0) this.events.push({ event, data: data.join('\n') });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves once `check` holds over what has arrived so far. */
  until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const test = () => {
        if (check()) {
          done();
          resolve();
        } else if (this.ended) {
          done();
          reject(new Error(`stream ended before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(test);
      };
      this.waiters.add(test);
      test();
    });
  }

  /** The first event from index `from` on for which `match` holds, waiting for it. */
  async next(match: (e: SseEvent) => boolean, from = 0, timeoutMs = 10_000): Promise<SseEvent> {
    let found: SseEvent | undefined;
    await this.until(
      () => {
        found = this.events.slice(from).find(match);
        return found !== undefined;
      },
      'a matching event',
      timeoutMs,
    );
    return found as SseEvent;
  }

  close(): void {
    this.abort.abort();
  }
}
