import type { Clock } from '../clock.js';
import type { Timing } from '../config.js';
import type { CredentialStore } from '../crypto/credentials.js';
import type { PublicKey } from '../crypto/signing.js';
import { DsnError, PeerError } from '../errors.js';
import type { HangupHook } from '../transport/types.js';
import type { Limits } from '../wire/limits.js';
import type { Emit } from './events.js';
import { FailureDetector, type ProbeFailure, type Transition } from './liveness.js';
import type { LostPeer, MutablePeer, Peer } from './peers.js';
import { type HeldState, placeholder } from './states.js';

export interface PeerTableDeps {
  selfId: string;
  clock: Clock;
  timing: Timing;
  limits: Limits;
  creds: CredentialStore;
  emit: Emit;
  /** A peer that missed the newest own State showed a sign of life: push it. */
  onBehind: (peer: Peer) => void;
  /** A peer left the table (dead or left): drop what was kept for it. */
  onGone: (peer: Peer) => void;
}

/**
 * The one owner of the node's membership: its peers, their liveness (through
 * the FailureDetector), the connections they authenticated on, and the
 * endpoints it lost and keeps looking for. Everything else reads peers and
 * asks for changes through these operations: meet, heard, probe results,
 * vouch, leave, evict, remember.
 */
export class PeerTable {
  private readonly peers = new Map<string, MutablePeer>();
  /** Evicted peers' and unanswered bootstraps' endpoints, keyed "address:port". */
  private readonly lostEndpoints = new Map<string, LostPeer>();
  /** Which peer's signed messages arrived on each live connection. */
  private readonly connections = new WeakMap<object, MutablePeer>();
  private readonly detector: FailureDetector<MutablePeer>;
  /** Bumped by every change of who is in the table, where, and of which implementation. */
  private version = 0;

  constructor(private readonly deps: PeerTableDeps) {
    this.detector = new FailureDetector(deps.clock, deps.timing, (p, t) => this.moved(p, t));
  }

  // ---- reading ------------------------------------------------------------

  get(id: string): Peer | undefined {
    return this.peers.get(id);
  }

  has(id: string): boolean {
    return this.peers.has(id);
  }

  get size(): number {
    return this.peers.size;
  }

  values(): IterableIterator<Peer> {
    return this.peers.values();
  }

  ids(): IterableIterator<string> {
    return this.peers.keys();
  }

  /**
   * A number that changes whenever a peer joins or leaves the table, moves
   * to another endpoint, or is found to be of this implementation: what is
   * derived from the table (its signed peer list, the relay tree) is kept
   * until then. Liveness is not part of it (a suspect keeps its place).
   */
  get changes(): number {
    return this.version;
  }

  /** Peers with an endpoint to send to. */
  reachable(): Peer[] {
    return [...this.peers.values()].filter((p) => p.address !== '' && p.port > 0);
  }

  /** Whether a probe of `peer` is due, given the routine interval for healthy peers. */
  probeDue(peer: Peer, routineMs: number): boolean {
    return this.detector.due(this.mine(peer), routineMs);
  }

  vouchedFor(peer: Peer): boolean {
    return this.detector.vouchedFor(this.mine(peer));
  }

  get lost(): ReadonlyMap<string, Readonly<LostPeer>> {
    return this.lostEndpoints;
  }

  // ---- membership -----------------------------------------------------------

  /**
   * Records a peer met through a Hello (either direction) at an endpoint,
   * or refreshes one that said Hello again (it may have restarted: it holds
   * nothing of ours). Persists a new key; emits `peer` for a new one.
   */
  async meet(
    nodeId: string,
    address: string,
    port: number,
    key: PublicKey,
    sameImpl = false,
  ): Promise<Peer> {
    const { creds, limits } = this.deps;
    let peer = this.peers.get(nodeId);
    if (!peer && this.peers.size >= limits.maxPeers) {
      throw new DsnError('DSN_ERR_LIMIT', `peer limit of ${limits.maxPeers} reached`);
    }
    const write = creds.known.has(nodeId) ? null : creds.remember(nodeId, key);
    this.version++;
    if (peer) {
      peer.ackedSeq = 0;
      peer.answeredFor = 0;
      peer.introduced = false;
      peer.address = address;
      peer.port = port;
      peer.sameImpl ||= sameImpl;
      this.detector.heard(peer);
    } else {
      peer = {
        id: nodeId,
        address,
        port,
        key,
        state: placeholder(nodeId),
        live: this.detector.fresh(),
        sameImpl,
        probeOffset: probeOffset(this.deps.selfId, nodeId, this.deps.timing.probeJitterMs),
        introduced: false,
        behind: false,
        ackedSeq: 0,
        answeredFor: 0,
      };
      this.peers.set(nodeId, peer);
      this.deps.emit('peer', nodeId);
    }
    this.lostEndpoints.delete(`${address}:${port}`);
    if (write) {
      await write.catch((err: Error) =>
        this.deps.emit('alert', `could not store the key of ${nodeId}: ${err.message}`),
      );
    }
    return peer;
  }

  /** A sign of life: a good answer, or an authenticated request. */
  heard(peer: Peer): void {
    const p = this.mine(peer);
    this.detector.heard(p);
    if (p.behind && this.peers.get(p.id) === p) {
      p.behind = false;
      this.deps.onBehind(p);
    }
  }

  /** It said (in a request or an answer) it is a node of this implementation. */
  sameImplementation(peer: Peer): void {
    const p = this.mine(peer);
    if (!p.sameImpl) this.version++;
    p.sameImpl = true;
  }

  /** This node sent it a signed message (it now counts this node's PINGs). */
  introduced(peer: Peer): void {
    this.mine(peer).introduced = true;
  }

  /** It holds the own State number `seq` (it took it, or was answered with it). */
  acked(peer: Peer, seq: number): void {
    const p = this.mine(peer);
    p.ackedSeq = Math.max(p.ackedSeq, seq);
  }

  /** It was answered with the own State `seq` for its State of `lastUpdate`. */
  answered(peer: Peer, seq: number, lastUpdate: number): void {
    const p = this.mine(peer);
    p.ackedSeq = seq;
    p.answeredFor = lastUpdate;
  }

  /** A push of the own State to it failed: it gets the newest at its next sign of life. */
  fellBehind(peer: Peer): void {
    this.mine(peer).behind = true;
  }

  setState(peer: Peer, state: HeldState): void {
    this.mine(peer).state = state;
  }

  /**
   * Drops a peer without a word to anyone, as a Python node drops one it
   * evicted (simulations of that use it).
   */
  forget(peer: Peer): void {
    this.drop(this.mine(peer));
  }

  // ---- liveness -------------------------------------------------------------

  probeStarted(peer: Peer): void {
    this.detector.probeStarted(this.mine(peer));
  }

  probeSucceeded(peer: Peer): void {
    this.detector.probeSucceeded(this.mine(peer));
    this.heard(peer);
  }

  /** A probe failed; evicts the peer if the failure detector declares it dead. */
  probeFailed(peer: Peer, err: unknown, calm: boolean): void {
    const p = this.mine(peer);
    if (this.peers.get(p.id) !== p) return;
    this.detector.probeFailed(p, failureOf(err), calm);
  }

  /** Another peer reached it on this node's behalf. */
  vouched(peer: Peer): void {
    this.detector.vouched(this.mine(peer));
  }

  /** It said it leaves (a signed LEAVE): dropped at once, not looked for again. */
  leave(peer: Peer): void {
    const p = this.mine(peer);
    if (this.peers.get(p.id) === p) this.detector.left(p);
  }

  /**
   * Notes that `peer` authenticated itself on `connection`. When the peer
   * closes that connection (its process stopped or died, or it dropped a
   * spare socket), it is probed at the next tick instead of after its
   * routine interval.
   */
  bind(connection: object | undefined, peer: Peer, onHangup?: HangupHook): void {
    const p = this.mine(peer);
    if (!connection || this.connections.get(connection) === p) return;
    this.connections.set(connection, p);
    onHangup?.(() => {
      if (this.peers.get(p.id) === p) this.detector.hungUp(p);
    });
  }

  /**
   * Another node no longer lists this peer: probe it at the next tick,
   * unless it is not alive (already probed as a suspect) or was heard from
   * or probed within the probe interval. Returns whether a probe was asked.
   */
  doubt(id: string): boolean {
    const p = this.peers.get(id);
    if (p?.live.state !== 'alive' || p.live.hungUp) return false;
    const quiet = this.deps.clock.now() - Math.max(p.live.lastHeard, p.live.lastProbe);
    if (quiet < this.deps.timing.probeIntervalMs) return false;
    this.detector.hungUp(p);
    return true;
  }

  /** A connection to `address:port` was closed from that end: probe whoever is there at the next tick. */
  hungUpAt(address: string, port: number): void {
    for (const p of this.peers.values()) {
      if (p.address === address && p.port === port) this.detector.hungUp(p);
    }
  }

  /** A PING on a connection a peer authenticated on is a sign of life of that peer. */
  pingedOn(connection: object | undefined): void {
    const p = connection && this.connections.get(connection);
    if (p && this.peers.get(p.id) === p) this.heard(p);
  }

  // ---- lost endpoints -------------------------------------------------------

  /** Keeps trying an endpoint (an evicted peer's, an unanswered bootstrap's) with backoff. */
  remember(address: string, port: number, nodeId: string | null = null): void {
    const key = `${address}:${port}`;
    const had = this.lostEndpoints.get(key);
    if (had) {
      if (nodeId) had.nodeId = nodeId;
      return;
    }
    if (this.lostEndpoints.size >= this.deps.limits.maxPeers) return;
    const t = this.deps.timing;
    this.lostEndpoints.set(key, {
      address,
      port,
      nodeId,
      nextTry: this.deps.clock.now() + t.reconnectMinMs,
      backoffMs: t.reconnectMinMs,
    });
  }

  /** The lost endpoints due for a try now, at most `budget`; each is rescheduled with doubled backoff. */
  dueLost(budget: number): LostPeer[] {
    const now = this.deps.clock.now();
    const max = this.deps.timing.reconnectMaxMs;
    const out: LostPeer[] = [];
    for (const lost of this.lostEndpoints.values()) {
      if (out.length >= budget) break;
      if (lost.nextTry > now) continue;
      lost.backoffMs = Math.min(lost.backoffMs * 2, max);
      lost.nextTry = now + lost.backoffMs;
      out.push(lost);
    }
    return out;
  }

  /** The lost endpoint of node `nodeId`, made due at once (someone mentioned the node). */
  retrySoon(nodeId: string): LostPeer | null {
    for (const lost of this.lostEndpoints.values()) {
      if (lost.nodeId !== nodeId) continue;
      const t = this.deps.timing;
      lost.nextTry = this.deps.clock.now();
      lost.backoffMs = t.reconnectMinMs;
      return lost;
    }
    return null;
  }

  found(address: string, port: number): void {
    this.lostEndpoints.delete(`${address}:${port}`);
  }

  // ---- internals ------------------------------------------------------------

  private moved(p: MutablePeer, t: Transition): void {
    const emit = this.deps.emit;
    switch (t) {
      case 'suspect':
      case 'alive':
        emit(t, p.id);
        return;
      case 'dead':
        this.drop(p);
        this.remember(p.address, p.port, p.id);
        emit('disconnect', p.id);
        return;
      case 'left':
        this.drop(p);
        emit('leave', p.id);
        return;
    }
  }

  private drop(p: MutablePeer): void {
    if (this.peers.get(p.id) !== p) return;
    this.peers.delete(p.id);
    this.version++;
    this.deps.onGone(p);
  }

  /** The table's own record behind a read-only view (the only place the cast is made). */
  private mine(peer: Peer): MutablePeer {
    return peer as MutablePeer;
  }
}

/** How a request failed, for the failure detector. */
export function failureOf(err: unknown): ProbeFailure {
  if (err instanceof PeerError && err.code === 'DSN_ERR_TIMEOUT') return 'timeout';
  const code = (err as { cause?: { code?: string } } | undefined)?.cause?.code;
  return code === 'ECONNREFUSED' ? 'refused' : 'other';
}

/**
 * A peer's share of the ping jitter. Of two nodes the one with the smaller ID
 * waits 0–jitter/4 past the interval, the other jitter–1.25 × jitter: the
 * first always pings before the second is due, and the second, hearing the
 * ping, never needs to. The random part spreads the pings of a node over time.
 */
export function probeOffset(ownId: string, peerId: string, jitterMs: number): number {
  return (ownId < peerId ? 0 : jitterMs) + (Math.random() * jitterMs) / 4;
}
