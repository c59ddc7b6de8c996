import type { Spread } from '../config.js';
import { type DigestEntry, encodeBundle, fitStates } from '../wire/packets.js';
import type { NodeCore } from './core.js';
import type { Outbound } from './outbound.js';
import type { Peer } from './peers.js';

/** Peers checked at once per digest answer at most, for the asker's lacking them (answerDigest). */
const DOUBTS_PER_DIGEST = 2;
/** States pushed to one Python peer per gossip round at most. */
const FILL_IN_PER_ROUND = 16;

/**
 * Who gets which State beyond its owner's own sends (docs/PROTOCOL.md §9 says
 * why relaying is safe: every State is signed by its owner).
 *
 * - Up to `fanoutAbove` nodes the owner sends to everyone. Above, it sends
 *   to `fanout` peers of this implementation and to every Python peer, and
 *   each node of this implementation passes a State it takes on to `fanout`
 *   others, once (eager push); digests in gossip repair the rest (lazy).
 * - Among nodes of this implementation, gossip exchanges digests (node ID,
 *   last_update): each side sends only what the other lacks.
 * - A Python node does not relay and speaks no digest; what it lacks is
 *   seen in its peer list: the States of nodes it does not list are sent to
 *   it as ordinary UPDATEs, which it takes from any sender.
 */
export class Spreader {
  /** For each Python peer, the nodes its last peer list named, and those it refused from us. */
  private readonly python = new Map<string, { listed: Set<string>; refused: Set<string> }>();

  constructor(
    private readonly core: NodeCore,
    private readonly out: Outbound,
    private readonly spread: Spread,
  ) {}

  /** Whether the network is past the full mesh. */
  scaled(): boolean {
    return this.core.peers.size + 1 > this.spread.fanoutAbove;
  }

  /** The peers an own update goes to directly. */
  ownTargets(): readonly Peer[] {
    const all = this.core.peers.reachable();
    if (!this.scaled()) return all;
    const picked = new Set(pick(this.core.peers.relaying(), this.spread.fanout));
    return all.filter((p) => picked.has(p) || !p.sameImpl);
  }

  /**
   * A newer State of `owner` was stored here: pass it on where it is due.
   * The first State held of a peer (`first`) is not pushed on: it came with
   * meeting the peer, which meets the others itself (a cold start of 1,000
   * would otherwise relay each of its million first States four times);
   * digests still bring it to anyone who lacks it.
   */
  stored(owner: Peer, first = false): void {
    const bytes = this.core.stateBytes(owner.id);
    if (!bytes) return;
    const noop = () => {};
    if (this.scaled() && !first) {
      // One more than the fanout, so that the owner, if among them, can be left out.
      const picked = pick(this.core.peers.relaying(), this.spread.fanout + 1);
      const to = picked.filter((p) => p !== owner).slice(0, this.spread.fanout);
      for (const p of to) void this.out.relay(p, [bytes]).catch(noop);
    }
    for (const [id, seen] of this.python) {
      if (id === owner.id || seen.listed.has(owner.id) || seen.refused.has(owner.id)) continue;
      const p = this.core.peers.get(id);
      if (p) void this.fillIn(p, owner.id, bytes, seen.refused);
    }
  }

  /**
   * After a Python peer's peer list: note whom it names, and send it the
   * States of nodes it does not (it may not reach their owners).
   */
  pythonListed(peer: Peer, ids: string[]): void {
    const listed = new Set(ids);
    const had = this.python.get(peer.id);
    const refused = had?.refused ?? new Set<string>();
    // A change of its list may change what it takes.
    if (had && had.listed.size !== listed.size) refused.clear();
    this.python.set(peer.id, { listed, refused });
    let budget = FILL_IN_PER_ROUND;
    for (const owner of this.core.peers.values()) {
      if (budget === 0) break;
      if (owner === peer || listed.has(owner.id) || refused.has(owner.id)) continue;
      const bytes = this.core.stateBytes(owner.id);
      if (!bytes) continue;
      budget--;
      void this.fillIn(peer, owner.id, bytes, refused);
    }
  }

  /** The peer left the table. */
  forget(peer: Peer): void {
    this.python.delete(peer.id);
  }

  /** A DIGEST answer: what the asker lacks, and what it holds newer than this node. */
  answerDigest(theirs: DigestEntry[]): Uint8Array {
    const core = this.core;
    const held = new Map(theirs.map((e) => [e.nodeId, e.lastUpdate]));
    const mine = core.digest();
    // An asker that holds most of what this node holds, but not X, may have
    // found X dead: check X now rather than at its routine ping, which in a
    // big network comes minutes apart. A check is a probe, never an eviction
    // on hearsay; a few per answer, each peer at most once per probe interval.
    let doubts = theirs.length * 2 > mine.length ? DOUBTS_PER_DIGEST : 0;
    const states: Uint8Array[] = [];
    for (const e of mine) {
      const t = held.get(e.nodeId);
      if (t !== undefined && t >= e.lastUpdate) continue;
      if (t === undefined && doubts > 0 && core.peers.doubt(e.nodeId)) doubts--;
      const b = core.stateBytes(e.nodeId);
      if (b) states.push(b);
    }
    const wanted: string[] = [];
    for (const e of theirs) {
      if (e.nodeId === core.id) continue;
      const mine = core.peers.get(e.nodeId);
      if (mine && e.lastUpdate > mine.state.packet.lastUpdate) wanted.push(e.nodeId);
      // A node lost here that the asker holds: look for it now.
      else if (!mine && core.creds.known.has(e.nodeId)) core.peers.retrySoon(e.nodeId);
    }
    return encodeBundle({ states: fitStates(states, core.limits.maxBodyBytes), wanted });
  }

  private async fillIn(
    peer: Peer,
    ownerId: string,
    bytes: Uint8Array,
    refused: Set<string>,
  ): Promise<void> {
    try {
      await this.out.pushOther(peer, bytes);
    } catch {
      refused.add(ownerId); // (its whitelist, say): not again until its list changes
    }
  }
}

/** Up to `n` of `xs` at random (without copying `xs` when n is small beside it: called per stored State). */
export function pick<T>(xs: readonly T[], n: number): T[] {
  if (xs.length <= n) return [...xs];
  if (n * 4 <= xs.length) {
    const at = new Set<number>();
    while (at.size < n) at.add(Math.floor(Math.random() * xs.length));
    return [...at].map((i) => xs[i] as T);
  }
  const a = [...xs];
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(Math.random() * (a.length - i));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a.slice(0, n);
}
