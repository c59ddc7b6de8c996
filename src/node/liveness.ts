import type { Clock } from '../clock.js';
import type { Timing } from '../config.js';

/**
 * What this node believes of a peer, in the manner of SWIM/memberlist:
 *
 *     alive ──probe fails──▶ suspect ──rules below──▶ dead
 *       ▲                      │
 *       └──any sign of life────┘          alive | suspect ──leave──▶ left
 *
 * `dead` and `left` are final: the peer leaves the table (a dead one's
 * endpoint is remembered and tried again; a peer that left is not).
 */
export type Liveness = 'alive' | 'suspect' | 'dead' | 'left';

/** How a probe failed: a refused connection means no process there, a timeout may be a busy peer or a lost link. */
export type ProbeFailure = 'refused' | 'timeout' | 'other';

/** The failure detector's record of one peer. Written only by FailureDetector. */
export interface LivenessRecord {
  state: Liveness;
  /** ms timestamp of the last sign of life: a good answer, or an authenticated request. */
  lastHeard: number;
  /** Failed probes in a row, and how many of them in a row were refused. */
  failures: number;
  refusals: number;
  /** ms timestamp of the last probe sent, and whether one is in flight. */
  lastProbe: number;
  probing: boolean;
  /** A connection it had opened to this node was closed from its end: probe it at the next tick. */
  hungUp: boolean;
  /** ms timestamp of the last time another peer vouched for it (an indirect probe), or 0. */
  vouchedAt: number;
}

export type Transition = 'suspect' | 'alive' | 'dead' | 'left';

/** Anything the detector watches: a peer, in the node. */
export interface Monitored {
  readonly live: LivenessRecord;
}

/**
 * The failure detector's rules, on an injectable clock. Every transition is
 * guarded (a peer already dead cannot be suspected, a live one not revived)
 * and reported through `onTransition` exactly once.
 *
 * - One failed probe makes a peer suspect; any sign of life makes it alive.
 * - A suspect is declared dead when its port refused two probes in a row
 *   (a process gone: ~2 s after its connection closed), or when it has been
 *   silent for `deadAfterMs` after two failed probes — twice as long when
 *   they timed out (a busy peer or a lost link) — and then never while
 *   another peer vouches for it (an indirect probe answered in the last
 *   `deadAfterMs`); neither rule while this node itself is starved of CPU
 *   (`calm`).
 */
export class FailureDetector<P extends Monitored> {
  constructor(
    private readonly clock: Clock,
    private readonly timing: Timing,
    private readonly onTransition: (peer: P, t: Transition) => void,
  ) {}

  fresh(): LivenessRecord {
    const now = this.clock.now();
    return {
      state: 'alive',
      lastHeard: now,
      failures: 0,
      refusals: 0,
      lastProbe: now,
      probing: false,
      hungUp: false,
      vouchedAt: 0,
    };
  }

  /** A sign of life: alive again if it was suspect. */
  heard(p: P): void {
    const r = p.live;
    if (isGone(r)) return;
    r.lastHeard = this.clock.now();
    r.failures = 0;
    r.refusals = 0;
    if (r.state === 'suspect') this.move(p, 'alive');
  }

  probeStarted(p: P): void {
    const r = p.live;
    r.probing = true;
    r.hungUp = false;
    r.lastProbe = this.clock.now();
  }

  probeSucceeded(p: P): void {
    p.live.probing = false;
    this.heard(p);
  }

  /**
   * A probe failed: suspect now, and dead if the rules say so (`calm`: this
   * node kept time lately). Returns whether the peer is now dead.
   */
  probeFailed(p: P, how: ProbeFailure, calm: boolean): boolean {
    const r = p.live;
    r.probing = false;
    if (isGone(r)) return false;
    r.failures++;
    r.refusals = how === 'refused' ? r.refusals + 1 : 0;
    if (r.state === 'alive') this.move(p, 'suspect');
    if (!calm) return false;
    // A port that refuses has no process behind it: a vouch (another peer
    // heard from it a moment ago) is stale then, not a reason to wait.
    const refused = r.refusals >= 2;
    if (!refused && this.vouchedFor(p)) return false;
    const silent = this.clock.now() - r.lastHeard;
    const deadAfter = how === 'timeout' ? 2 * this.timing.deadAfterMs : this.timing.deadAfterMs;
    if (refused || (r.failures >= 2 && silent >= deadAfter)) {
      this.move(p, 'dead');
      return true;
    }
    return false;
  }

  /** Another peer reached it for us (indirect probe): no eviction for a while, still suspect. */
  vouched(p: P): void {
    const r = p.live;
    if (isGone(r)) return;
    r.vouchedAt = this.clock.now();
  }

  vouchedFor(p: P): boolean {
    const r = p.live;
    return r.vouchedAt > 0 && this.clock.now() - r.vouchedAt < this.timing.deadAfterMs;
  }

  /** The peer said it leaves. */
  left(p: P): void {
    const r = p.live;
    if (isGone(r)) return;
    this.move(p, 'left');
  }

  hungUp(p: P): void {
    const r = p.live;
    if (!isGone(r)) r.hungUp = true;
  }

  /** Whether a probe is due now, given the routine interval for healthy peers. */
  due(p: P, routineMs: number): boolean {
    const r = p.live;
    if (r.probing || isGone(r)) return false;
    const now = this.clock.now();
    if (r.state === 'suspect') return now - r.lastProbe >= this.timing.suspectProbeMs;
    return r.hungUp || now - Math.max(r.lastHeard, r.lastProbe) >= routineMs;
  }

  private move(p: P, to: Liveness & Transition): void {
    p.live.state = to;
    this.onTransition(p, to);
  }
}

function isGone(r: LivenessRecord): boolean {
  return r.state === 'dead' || r.state === 'left';
}
