import type { Clock } from '../clock.js';

/**
 * `last_update` values for the own State: seconds since the epoch, strictly
 * increasing for this identity, across restarts too (PROTOCOL.md §8: the
 * reference reuses the wall clock, so a restart after the clock went back is
 * ignored by every peer).
 *
 * A lease keeps restarts safe without a disk write per update: before a value
 * passes the persisted ceiling, a new ceiling LEASE seconds ahead is written.
 * After a restart (even a crash, even with the clock set back) the first value
 * is above the old ceiling, hence above everything used before.
 */
export const LEASE_SECONDS = 10;
/** Smallest step: well above the f64 spacing near 2e9 seconds (~2.4e-7). */
const STEP = 1e-6;

export class Timestamps {
  private last: number;
  private ceiling: number;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly clock: Clock,
    persistedCeiling: number,
    private readonly persist: (ceiling: number) => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {
    this.last = persistedCeiling;
    this.ceiling = persistedCeiling;
  }

  /** The next value: now, or just after the previous one if the clock is behind. */
  next(): number {
    const t = Math.max(this.clock.now() / 1000, this.last + STEP);
    this.last = t;
    if (t >= this.ceiling) {
      this.ceiling = t + LEASE_SECONDS;
      const c = this.ceiling;
      this.writing = this.writing.then(() => this.persist(c)).catch(this.onError);
    }
    return t;
  }

  /** Resolves once every ceiling handed out so far is on disk. */
  flushed(): Promise<void> {
    return this.writing;
  }
}
