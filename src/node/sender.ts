/**
 * Sends the own State to one peer, coalescing: while a send is in flight,
 * newer states wait in a single slot and only the newest goes next. States
 * replace each other whole, so skipping the ones in between loses nothing,
 * and a slow peer never builds a queue.
 *
 * States are known by their sequence numbers: `send(seq)` sends that state
 * (or a newer one); `whenDone(seq, fn)` calls `fn` (and `waitFor(seq)`
 * resolves) once a send of that state or a newer one has finished
 * (delivered or given up), or the peer is gone.
 */
export class CoalescingSender {
  private inFlight = false;
  private pending: number | null = null;
  private doneSeq = 0;
  private closed = false;
  private waiters: { seq: number; done: () => void }[] = [];

  constructor(private readonly send: (seq: number) => Promise<void>) {}

  push(seq: number): void {
    if (this.closed) return;
    this.pending = seq;
    if (!this.inFlight) void this.pump();
  }

  waitFor(seq: number): Promise<void> {
    return new Promise((resolve) => this.whenDone(seq, resolve));
  }

  /** Calls `done` once (at once if already so) when state `seq` or newer has been sent. */
  whenDone(seq: number, done: () => void): void {
    if (this.closed || this.doneSeq >= seq) done();
    else this.waiters.push({ seq, done });
  }

  /** Whether nothing is in flight or waiting. */
  get idle(): boolean {
    return !this.inFlight && this.pending === null;
  }

  close(): void {
    this.closed = true;
    this.pending = null;
    this.release(Number.POSITIVE_INFINITY);
  }

  private async pump(): Promise<void> {
    this.inFlight = true;
    while (this.pending !== null && !this.closed) {
      const seq = this.pending;
      this.pending = null;
      try {
        await this.send(seq);
      } catch {
        // The send function reports its own failures; a failed send still
        // counts as finished for the waiters (the failure detector takes over).
      }
      this.doneSeq = Math.max(this.doneSeq, seq);
      this.release(this.doneSeq);
    }
    this.inFlight = false;
  }

  private release(upTo: number): void {
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.seq <= upTo) w.done();
      else keep.push(w);
    }
    this.waiters = keep;
  }
}
