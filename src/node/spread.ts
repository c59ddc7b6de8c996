import type { Spread } from '../config.js';
import { type DigestEntry, encodeBundle, fitStates, inIdOrder } from '../wire/packets.js';
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
 * - Up to `fanoutAbove` nodes the owner sends to everyone. Above, a State
 *   travels down a tree: the nodes of this implementation in node-ID order,
 *   rotated to start at the owner, as a heap with `fanout` children per node
 *   (position p passes it on to positions fanout·p + 1 … fanout·p + fanout).
 *   Every node computes the same tree from its own table, so no list
 *   travels with a State; the owner sends to `fanout` peers, each node takes
 *   it once, and an update costs N − 1 messages in all, as the full mesh,
 *   in log_fanout(N) hops. (Random relays to `fanout` peers each, tried
 *   first, cost fanout × N messages and still missed ~e^−fanout of the
 *   nodes.) A child that is not alive is skipped for its own children; one
 *   whose RELAY fails gets its children sent to instead. Where views of the
 *   table differ, digests in gossip repair what the tree missed (lazy push).
 *   Python peers get every own State straight from its owner.
 * - Among nodes of this implementation, gossip exchanges digests (node ID,
 *   last_update): each side sends only what the other lacks.
 * - A Python node does not relay and speaks no digest; what it lacks is
 *   seen in its peer list: the States of nodes it does not list are sent to
 *   it as ordinary UPDATEs, which it takes from any sender.
 */
export class Spreader {
  /** For each Python peer, the nodes its last peer list named, and those it refused from us. */
  private readonly python = new Map<string, { listed: Set<string>; refused: Set<string> }>();
  /** The tree's order: this node and its peers of this implementation, by node ID; kept until the table changes. */
  private order: { changes: number; ids: string[]; at: Map<string, number> } = {
    changes: -1,
    ids: [],
    at: new Map(),
  };

  constructor(
    private readonly core: NodeCore,
    private readonly out: Outbound,
    private readonly spread: Spread,
  ) {}

  /** Whether the network is past the full mesh. */
  scaled(): boolean {
    return this.core.peers.size + 1 > this.spread.fanoutAbove;
  }

  /** The peers an own update goes to directly: everyone, or past the full mesh the tree's first level and every Python peer. */
  ownTargets(): Peer[] {
    const all = this.core.peers.reachable();
    if (!this.scaled()) return all;
    return [...this.below(this.core.id), ...all.filter((p) => !p.sameImpl)];
  }

  /**
   * A newer State of `owner` was stored here: pass it on where it is due.
   * The first State held of a peer (`first`) is not pushed on: it came with
   * meeting the peer, which meets the others itself (a cold start of 1,000
   * would otherwise relay each of its million first States); digests still
   * bring it to anyone who lacks it.
   */
  stored(owner: Peer, first = false): void {
    const bytes = this.core.stateBytes(owner.id);
    if (!bytes) return;
    if (this.scaled() && !first) this.passOn(owner.id, this.core.id, bytes);
    for (const [id, seen] of this.python) {
      if (id === owner.id || seen.listed.has(owner.id) || seen.refused.has(owner.id)) continue;
      const p = this.core.peers.get(id);
      if (p) void this.fillIn(p, owner.id, bytes, seen.refused);
    }
  }

  /** An own State did not reach `peer`: past the full mesh, its children in the tree get it from here. */
  missed(peer: Peer): void {
    if (this.scaled() && peer.sameImpl)
      this.passOn(this.core.id, peer.id, this.core.ownStateBytes());
  }

  /**
   * RELAY to the children of `at` in `ownerId`'s tree, each tried twice (its
   * whole subtree waits on it); a child that still fails has its own
   * children sent to.
   */
  private passOn(ownerId: string, at: string, bytes: Uint8Array): void {
    for (const child of this.below(ownerId, at)) {
      this.out.relay(child, [bytes], 2).catch(() => {
        if (this.core.peers.get(child.id) === child) this.passOn(ownerId, child.id, bytes);
      });
    }
  }

  /**
   * The children of node `at` (this node by default) in the tree of
   * `ownerId`'s States, skipping those not alive for their own children.
   * None when either is not in the tree (a Python owner sends to everyone
   * itself).
   */
  private below(ownerId: string, at: string = this.core.id): Peer[] {
    const { ids, at: index } = this.treeOrder();
    const o = index.get(ownerId);
    const me = index.get(at);
    if (o === undefined || me === undefined) return [];
    const n = ids.length;
    const f = Math.max(1, this.spread.fanout);
    const out: Peer[] = [];
    const visit = (pos: number) => {
      for (let k = 1; k <= f; k++) {
        const c = f * pos + k;
        if (c >= n) return;
        const peer = this.core.peers.get(ids[(c + o) % n] as string);
        if (peer?.live.state === 'alive') out.push(peer);
        else visit(c);
      }
    };
    visit((me - o + n) % n);
    return out;
  }

  private treeOrder(): { ids: string[]; at: Map<string, number> } {
    const changes = this.core.peers.changes;
    if (this.order.changes === changes) return this.order;
    const ids = [this.core.id];
    for (const p of this.core.peers.reachable()) if (p.sameImpl) ids.push(p.id);
    const sorted = inIdOrder(ids, (id) => id);
    this.order = { changes, ids: sorted, at: new Map(sorted.map((id, i) => [id, i])) };
    return this.order;
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

/** Up to `n` of `xs` at random. */
export function pick<T>(xs: readonly T[], n: number): T[] {
  if (xs.length <= n) return [...xs];
  const a = [...xs];
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(Math.random() * (a.length - i));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a.slice(0, n);
}
