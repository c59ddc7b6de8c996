import type { Clock, TimerHandle } from '../clock.js';
import type { Timing } from '../config.js';
import { PeerError } from '../errors.js';
import type { NodeCore } from './core.js';
import { explainJoinFailure, type JoinFailure, joinSummary } from './join.js';
import type { Outbound } from './outbound.js';
import type { Peer } from './peers.js';
import { pick, type Spreader } from './spread.js';

/**
 * Lost endpoints tried per tick at most (see reconnect): with the 1 s tick
 * and reconnectMaxMs 5 s, a node looks for a lost peer at least every 5 s,
 * and for all of them at no more than 4 attempts a second.
 */
const RECONNECTS_PER_TICK = 4;
/** Routine pings a second at most, as a multiple of probesPerSecond, once the interval stretches. */
const ROUTINE_BURST = 1.5;
/** Peers asked to reach a suspect on this node's behalf. */
const INDIRECT_PROBES = 2;

/**
 * How long a healthy peer may stay silent before it is pinged, and how far
 * the per-peer offsets spread (their share `stretch`), for a node with
 * `peers` peers. Of each pair of TypeScript nodes one pings, so a node pings
 * about half its peers: with more than 2 × probesPerSecond × probeIntervalMs
 * peers the interval grows to keep this node near probesPerSecond pings a
 * second. The pinging side waits the interval plus 0–jitter/4 × stretch
 * (probeOffset): a routine round takes at most base + jitter/4 × stretch.
 */
export function routineInterval(peers: number, t: Timing): { base: number; stretch: number } {
  const needed = (peers * 1000) / (2 * t.probesPerSecond);
  const stretch = Math.max(1, needed / (t.probeIntervalMs + t.probeJitterMs / 8));
  return { base: t.probeIntervalMs * stretch, stretch };
}

/**
 * The node's periodic work, on one timer that runs every
 * `timing.suspectProbeMs` (1 s by default), so that the pings due in a second
 * leave together (on this kind of machine a process wake-up costs more than
 * the ping itself):
 *
 * - Probes. A healthy peer is pinged once it has been silent for the probe
 *   interval plus its own fixed offset: `probeIntervalMs` (4 s) and up to
 *   1.25 × `probeJitterMs` (see probeOffset) in a small network, both
 *   stretched in a big one so that the node sends about `probesPerSecond`
 *   routine pings a second (see routineInterval; never more than 1.5 times
 *   that, so peers met together are not pinged together). Any good answer, any
 *   authenticated request from it, and any PING on a connection it
 *   authenticated on count as signs of life: busy peers are never pinged,
 *   and of two TypeScript nodes only the one with the smaller ID pings. A
 *   peer whose connection to this node closed from its end is pinged at the
 *   next tick. What a failure means (suspect, dead) is the failure
 *   detector's rule (liveness.ts); eviction waits while this node itself is
 *   starved of CPU.
 * - Gossip every `tickMs`: UPDATE the own State to one random peer (apply the
 *   State in its reply) and, at the same time, PEERS; then meet everyone
 *   not known yet.
 * - Reconnect: evicted peers and unanswered bootstrap endpoints are retried
 *   with exponential backoff (`reconnectMinMs` doubling to `reconnectMaxMs`),
 *   so two halves of a healed partition find each other again.
 */
export class Ticker {
  private timer: TimerHandle | null = null;
  private running = false;
  private lastGossip = 0;
  private gossiping = false;
  /** When the next tick is due; a tick much later than that means this process is starved. */
  private dueAt = 0;
  /** No eviction before this time: this node itself was running late. */
  private calmAt = 0;

  constructor(
    private readonly core: NodeCore,
    private readonly out: Outbound,
    private readonly spreader: Spreader,
    private readonly clock: Clock,
  ) {}
  /** When each suspect was last probed through other peers. */
  private readonly indirectAt = new WeakMap<Peer, number>();
  /** Routine pings this tick may still send, in a network big enough to stretch the interval. */
  private routineBudget = 0;

  /**
   * Tries the bootstrap endpoints in order until one admits this node. When
   * none does, returns why for each (and, with `alert`, says so: "no
   * bootstrap node admitted this node (… refused the join: the network keys
   * differ; …)") and keeps looking for them in the background. Null when
   * admitted, or with no bootstrap endpoint.
   */
  async bootstrap(alert = true): Promise<JoinFailure[] | null> {
    const eps = this.core.config.bootstrapNodes;
    if (eps.length === 0) return null;
    const tried: JoinFailure[] = [];
    for (const ep of eps) {
      try {
        await this.out.join(ep.address, ep.port);
        return null;
      } catch (err) {
        tried.push(explainJoinFailure(`${ep.address}:${ep.port}`, err, this.core));
      }
    }
    if (alert) this.core.emit('alert', `${joinSummary(tried)}; retrying in the background`);
    for (const ep of eps) this.core.peers.remember(ep.address, ep.port);
    return tried;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.lastGossip = this.clock.now();
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (!this.running) return;
    const every = this.core.config.timing.suspectProbeMs;
    this.dueAt = this.clock.now() + every;
    this.timer = this.clock.setTimeout(() => this.tick(), every);
    this.timer.unref?.();
  }

  /**
   * One round; never throws. Nothing here is awaited: a gossip round with an
   * unreachable peer can take several request timeouts, and probing must go
   * on meanwhile.
   */
  tick(): void {
    const now = this.clock.now();
    const t = this.core.config.timing;
    // Starved of CPU (this tick came more than a probe period late), a node
    // cannot tell a slow peer from a dead one: it evicts nobody until it has
    // kept time for a full dead-after period again.
    if (now - this.dueAt > t.suspectProbeMs) this.calmAt = now + t.deadAfterMs;
    this.probe();
    this.reconnect();
    if (!this.gossiping && now - this.lastGossip >= t.tickMs) {
      this.lastGossip = now;
      this.gossiping = true;
      void this.gossip().finally(() => {
        this.gossiping = false;
      });
    }
    this.schedule();
  }

  private probe(): void {
    const table = this.core.peers;
    const t = this.core.config.timing;
    const { base, stretch } = routineInterval(table.size, t);
    const calm = () => this.clock.now() >= this.calmAt;
    // Peers met together fall due together one interval later (all 500 of
    // them at once in a network of 1,000 started together): past the
    // stretch, routine pings are also held to ROUTINE_BURST × probesPerSecond,
    // the rest waiting for the next ticks, which spreads them for good. A
    // suspect or a peer that hung up is never held back.
    const perTick = (t.probesPerSecond * t.suspectProbeMs) / 1000;
    this.routineBudget =
      stretch > 1
        ? Math.min(this.routineBudget + ROUTINE_BURST * perTick, ROUTINE_BURST * perTick + 1)
        : Number.POSITIVE_INFINITY;
    for (const peer of table.values()) {
      if (peer.port === 0 || peer.address === '') continue;
      if (!table.probeDue(peer, base + peer.probeOffset * stretch)) continue;
      const urgent = peer.live.state === 'suspect' || peer.live.hungUp;
      if (!urgent) {
        if (this.routineBudget < 1) continue;
        this.routineBudget--;
      }
      table.probeStarted(peer);
      // A peer that never got a signed message from this node cannot tell
      // its PINGs from anyone's: the first probe introduces it (UPDATE).
      const probe = peer.introduced ? this.out.ping(peer) : this.out.exchange(peer);
      probe.then(
        () => table.probeSucceeded(peer),
        (err: unknown) => {
          if (!this.running) return;
          table.probeFailed(peer, err, calm());
          if (table.get(peer.id) === peer && peer.live.state === 'suspect') this.indirect(peer);
        },
      );
    }
  }

  /**
   * Asks two other peers of this implementation to reach a suspect (SWIM's
   * ping-req): if one does, the link between this node and the suspect is
   * what failed, and the suspect is not evicted while they vouch for it
   * (its States then come through them, see spread.ts). Once per half
   * dead-after period per suspect.
   */
  private indirect(target: Peer): void {
    const t = this.core.config.timing;
    const now = this.clock.now();
    if (now - (this.indirectAt.get(target) ?? 0) < t.deadAfterMs / 2) return;
    this.indirectAt.set(target, now);
    const table = this.core.peers;
    const helpers = table
      .reachable()
      .filter((p) => p !== target && p.sameImpl && p.live.state === 'alive');
    for (const via of pick(helpers, INDIRECT_PROBES)) {
      this.out.probeVia(via, target, t.requestTimeoutMs).then(
        (reached) => {
          if (reached && table.get(target.id) === target) table.vouched(target);
        },
        () => {},
      );
    }
  }

  /**
   * Tries the lost endpoints that are due, a few per tick, as a join (Hello,
   * UPDATE, PEERS, then meet everyone listed and not known): one node found
   * again after a partition brings the others of its side at once (meets
   * run a few at a time, see Outbound.meet).
   */
  private reconnect(): void {
    const table = this.core.peers;
    for (const lost of table.dueLost(RECONNECTS_PER_TICK)) {
      this.out.join(lost.address, lost.port).then(
        () => table.found(lost.address, lost.port),
        () => {},
      );
    }
  }

  /**
   * One gossip round with a random peer that answers (a suspect is the
   * failure detector's to probe). With a node of this implementation:
   * SUMMARY, and only if the two hold different States, DIGEST (each side
   * gets what it lacks, relayed States included) and PEERS. With a Python
   * node: UPDATE (unless it is known to hold the own State) and PEERS; then
   * the States of nodes its list does not name go to it (spread.ts). Then
   * meet everyone listed and not known yet.
   */
  private async gossip(): Promise<void> {
    const all = this.core.peers.reachable();
    const answering = all.filter((p) => p.live.state === 'alive');
    const candidates = answering.length > 0 ? answering : all;
    const peer = candidates[Math.floor(Math.random() * candidates.length)];
    if (!peer) return;
    // Equal summaries: the same States of the same nodes, so neither the
    // digest nor the peer list would tell either side anything.
    if (peer.sameImpl && (await this.out.sameStates(peer).catch(() => false))) return;
    // A peer known to hold the newest own State (it took it, or answered it)
    // gets no UPDATE: its answer would be empty, and in a quiet network that
    // halves gossip's requests. If it lost the State without a new Hello (a
    // node that evicted this one), its 401 to PEERS says so: then meet again.
    const holds = peer.sameImpl || peer.ackedSeq >= this.core.seq;
    // Both at once: their answers then mostly wake this process once, not twice.
    const [, list] = await Promise.allSettled([
      peer.sameImpl ? this.out.digest(peer) : holds ? null : this.out.exchange(peer),
      this.out.peerList(peer).catch(async (err: unknown) => {
        if (!holds || !(err instanceof PeerError) || err.status !== 401) throw err;
        await this.out.meet(peer.address, peer.port);
        return this.out.peerList(peer);
      }),
    ]);
    // (A failed request is the failure detector's business.)
    if (list.status !== 'fulfilled') return;
    if (!peer.sameImpl)
      this.spreader.pythonListed(
        peer,
        list.value.map((e) => e.nodeId),
      );
    await this.out.meetAll(list.value);
  }
}
