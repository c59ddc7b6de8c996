import type { PublicKey } from '../crypto/signing.js';
import type { HeldState } from './states.js';

/** One known peer: where it is, its key, its state, and what the failure detector knows. */
export interface Peer {
  readonly id: string;
  /** '' when unknown (then it cannot be contacted). */
  address: string;
  port: number;
  key: PublicKey;
  state: HeldState;
  /** ms timestamp of the last sign of life: a good answer, or an authenticated request. */
  lastHeard: number;
  /** Failed pings in a row. */
  failures: number;
  /** ms timestamp of the last ping sent. */
  lastProbe: number;
  /** This peer's fixed random share of timing.probeJitterMs. */
  probeOffset: number;
  pinging: boolean;
  /**
   * This node has sent it a signed message (Hello, UPDATE, PEERS), so the
   * peer knows this node's connection as this node's and counts its PINGs.
   * Until then a routine probe is an UPDATE exchange, not a PING.
   */
  introduced: boolean;
  /** A connection it had opened to this node was closed from its end: ping it at the next tick. */
  hungUp: boolean;
  /** The last push of the own State to it failed: it gets the newest when heard from again. */
  behind: boolean;
  /** The newest own State (NodeCore.seq) it holds, as far as this node knows; 0 after it said Hello. */
  ackedSeq: number;
  /** `last_update` of its State that this node last answered with the own State (0: none). */
  answeredFor: number;
}

/**
 * A peer evicted (or a bootstrap endpoint) that the node keeps trying with
 * backoff, so that a healed partition finds itself again.
 */
export interface LostPeer {
  address: string;
  port: number;
  nextTry: number;
  backoffMs: number;
}
