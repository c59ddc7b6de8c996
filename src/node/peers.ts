import type { PublicKey } from '../crypto/signing.js';
import type { LivenessRecord } from './liveness.js';
import type { HeldState } from './states.js';

/**
 * One known peer as the rest of the node sees it: read-only. PeerTable alone
 * changes it (and FailureDetector its `live` record), through their methods.
 */
export interface Peer {
  readonly id: string;
  /** '' when unknown (then it cannot be contacted). */
  readonly address: string;
  readonly port: number;
  readonly key: PublicKey;
  readonly state: HeldState;
  readonly live: Readonly<LivenessRecord>;
  /** A node of this implementation (its requests or answers said so): it speaks LEAVE, DIGEST and PROBE. */
  readonly sameImpl: boolean;
  /** This peer's fixed random share of timing.probeJitterMs. */
  readonly probeOffset: number;
  /**
   * This node has sent it a signed message (Hello, UPDATE, PEERS), so the
   * peer knows this node's connection as this node's and counts its PINGs.
   * Until then a routine probe is an UPDATE exchange, not a PING.
   */
  readonly introduced: boolean;
  /** The last push of the own State to it failed: it gets the newest when heard from again. */
  readonly behind: boolean;
  /** The newest own State (NodeCore.seq) it holds, as far as this node knows; 0 after it said Hello. */
  readonly ackedSeq: number;
  /** `last_update` of its State that this node last answered with the own State (0: none). */
  readonly answeredFor: number;
}

/** The same record, as PeerTable holds it. */
export type MutablePeer = { -readonly [K in keyof Peer]: Peer[K] } & { live: LivenessRecord };

/**
 * An endpoint the node keeps trying with backoff: an evicted peer's (so that
 * a healed partition finds itself again) or an unanswered bootstrap's.
 */
export interface LostPeer {
  address: string;
  port: number;
  /** The node last seen there, if any. */
  nodeId: string | null;
  nextTry: number;
  backoffMs: number;
}
