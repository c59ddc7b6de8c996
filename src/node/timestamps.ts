import type { Clock } from '../clock.js';

/**
 * `last_update` values for the own State: seconds since the epoch, strictly
 * increasing for this identity, across restarts too (PROTOCOL.md §8: the
 * reference reuses the wall clock, so a restart after the clock went back is
 * ignored by every peer).
 *
 * A lease keeps restarts safe without a disk write per update: no value is
 * handed out unless a ceiling above it is already on disk. `reserve()` writes
 * the first ceiling (LEASE seconds ahead) before the node signs anything;
 * once values pass the middle of the lease, the next ceiling is written in
 * the background. Should a value catch up with the ceiling before that write
 * lands, values creep up by STEP until it does (still strictly increasing).
 * After any restart — a crash included, the clock set back included — the
 * first value is above the old ceiling, hence above everything used before.
 */
export const LEASE_SECONDS = 10;
/** Smallest step: well above the f64 spacing near 2e9 seconds (~2.4e-7). */
const STEP = 1e-6;

export class Timestamps {
  private last: number;
  /** The ceiling known to be on disk. */
  private durable: number;
  /** The ceiling being written, if any. */
  private pending: number | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly clock: Clock,
    persistedCeiling: number,
    private readonly persist: (ceiling: number) => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {
    this.last = persistedCeiling;
    this.durable = persistedCeiling;
  }

  /** Writes the first ceiling; call (and await) before the first `next()`. */
  async reserve(): Promise<void> {
    const c = Math.max(this.clock.now() / 1000, this.last) + LEASE_SECONDS;
    await this.persist(c);
    this.durable = c;
  }

  /** The next value: now, or just after the previous one if the clock is behind. */
  next(): number {
    let t = Math.max(this.clock.now() / 1000, this.last + STEP);
    if (t >= this.durable) t = this.last + STEP; // wait for the next ceiling
    if (t >= this.durable) {
      throw new Error('timestamp ceiling not persisted: reserve() must run first');
    }
    this.last = t;
    if (t > this.durable - LEASE_SECONDS / 2 && this.pending === null) this.extend(t);
    return t;
  }

  private extend(t: number): void {
    const c = Math.max(this.clock.now() / 1000, t) + LEASE_SECONDS;
    this.pending = c;
    this.writing = this.writing
      .then(() => this.persist(c))
      .then(() => {
        this.durable = Math.max(this.durable, c);
      }, this.onError)
      .finally(() => {
        this.pending = null;
      });
  }

  /** Resolves once every ceiling asked for so far is on disk. */
  flushed(): Promise<void> {
    return this.writing;
  }
}
