import { DsnError, PeerError } from '../errors.js';
import { MsgType, PING_PAYLOAD } from '../wire/frame.js';
import {
  dataInnerDigest,
  decodeBundle,
  decodeHello,
  decodePeers,
  decodeStateAsSigned,
  encodeBundle,
  encodeDataHead,
  encodeDigest,
  encodePeers,
  encodeProbe,
  fitStates,
  type PeerEntry,
  type Peers,
  signedBytesPeers,
} from '../wire/packets.js';
import type { NodeCore } from './core.js';
import type { Peer } from './peers.js';
import type { Rpc } from './rpc.js';

const EMPTY = new Uint8Array(0);

/** Requests this node makes: Hello, UPDATE exchange, PEERS, PING, DATA, and joining. */
export class Outbound {
  constructor(
    private readonly core: NodeCore,
    private readonly rpc: Rpc,
  ) {}

  /**
   * HELLO to an endpoint: checks the answer like an incoming Hello, learns
   * the own address from `detected_address` (unless networkIp is set), and
   * records the responder at the endpoint dialled.
   */
  async hello(address: string, port: number): Promise<Peer> {
    const core = this.core;
    const answer = await this.rpc.ask(address, port, MsgType.HELLO, core.hello(''));
    const h = decodeHello(answer.payload, core.limits);
    const key = wrap(address, port, () => core.checkHello(h, true));
    if (h.detectedAddress && core.config.networkIp === null) core.address = h.detectedAddress;
    const peer = await core.peers.meet(h.nodeId, address, port, key, answer.same);
    core.peers.introduced(peer);
    return peer;
  }

  /**
   * UPDATE with the current own State; applies the peer's State from the
   * reply, and notes that the peer now holds this node's State up to that
   * number (ackedSeq). A 401 means the peer does not know this node (it
   * forgot it, or restarted): say Hello again and resend once.
   */
  async exchange(peer: Peer): Promise<void> {
    const seq = this.core.seq;
    const payload = this.core.ownStateBytes();
    let reply: Uint8Array;
    try {
      reply = await this.rpc.call(peer.address, peer.port, MsgType.UPDATE, payload);
    } catch (err) {
      if (!(err instanceof PeerError) || err.status !== 401) throw err;
      await this.hello(peer.address, peer.port);
      reply = await this.rpc.call(peer.address, peer.port, MsgType.UPDATE, payload);
    }
    const table = this.core.peers;
    table.heard(peer);
    table.introduced(peer);
    // Once through, the peer holds that State (or a newer one).
    table.acked(peer, seq);
    if (reply.length > 0) {
      const { state, signed } = decodeStateAsSigned(reply, this.core.limits);
      this.core.offerReply(peer, state, signed);
    }
  }

  /** PEERS: the peer's signed address book. */
  async peerList(peer: Peer): Promise<PeerEntry[]> {
    const core = this.core;
    const ask: Peers = { nodeId: core.id, sig: EMPTY, connections: [] };
    ask.sig = core.creds.keyPair.sign(signedBytesPeers(ask));
    const answer = decodePeers(
      await this.rpc.call(peer.address, peer.port, MsgType.PEERS, encodePeers(ask)),
      core.limits,
    );
    if (answer.nodeId !== peer.id || !peer.key.verify(signedBytesPeers(answer), answer.sig)) {
      throw new PeerError('DSN_ERR_PEER', `peer list from ${peer.id} does not verify`);
    }
    this.core.peers.heard(peer);
    this.core.peers.introduced(peer);
    return answer.connections;
  }

  /**
   * Whether `peer` itself still answers at its recorded endpoint: a Hello
   * answered under its ID with its key. (Any member answers a PING, so a
   * PING would not tell the peer from a node that took over its port.)
   * No side effects on the peer table.
   */
  async isAt(peer: Peer, timeoutMs: number): Promise<boolean> {
    const core = this.core;
    try {
      const answer = await this.rpc.call(peer.address, peer.port, MsgType.HELLO, core.hello(''), {
        tries: 1,
        timeoutMs,
      });
      const h = decodeHello(answer, core.limits);
      return h.nodeId === peer.id && core.checkHello(h, true).equals(peer.key);
    } catch {
      return false;
    }
  }

  /** One PING, one try: the failure detector decides what a failure means. */
  async ping(peer: Peer, timeoutMs?: number): Promise<void> {
    await this.rpc.call(peer.address, peer.port, MsgType.PING, PING_PAYLOAD, {
      tries: 1,
      timeoutMs,
    });
  }

  /**
   * One DATA, answered OK (or refused: a DsnError DSN_ERR_REFUSED when the
   * peer's receive callback threw). The payload is hashed and encrypted
   * where it lies, never copied into a packet buffer.
   */
  async data(peer: Peer, data: Uint8Array): Promise<void> {
    const id = this.core.id;
    const sig = this.core.creds.keyPair.signInner(dataInnerDigest(id, data));
    const parts = [encodeDataHead(id, sig, data.length), data];
    let answer: Uint8Array;
    try {
      answer = await this.rpc.call(peer.address, peer.port, MsgType.DATA, parts, {
        retryStatus: false,
      });
    } catch (err) {
      if (err instanceof PeerError && err.status === 503) {
        throw new PeerError('DSN_ERR_REFUSED', `${peer.id} refused the data: ${err.reason}`, 503, {
          cause: err,
        });
      }
      throw err;
    }
    if (Buffer.from(answer).toString('latin1') !== 'OK') {
      throw new PeerError('DSN_ERR_PEER', `${peer.id} did not acknowledge the data`);
    }
  }

  // ---- extensions, for nodes of this implementation only ------------------

  /** LEAVE: this node stops; one try, briefly (stop() waits for it). */
  async leave(peer: Peer, payload: Uint8Array, timeoutMs: number): Promise<void> {
    await this.rpc.call(peer.address, peer.port, MsgType.LEAVE, payload, { tries: 1, timeoutMs });
  }

  /**
   * DIGEST: tells the peer which States this node holds; takes the newer
   * ones it sends back (each checked against its owner's key) and sends it
   * those it asked for (RELAY).
   */
  async digest(peer: Peer): Promise<void> {
    const core = this.core;
    const answer = decodeBundle(
      await this.rpc.call(peer.address, peer.port, MsgType.DIGEST, encodeDigest(core.digest())),
      core.limits,
    );
    core.peers.heard(peer);
    for (const s of answer.states) core.takeRelayed(s);
    const states: Uint8Array[] = [];
    for (const id of answer.wanted) {
      const b = core.stateBytes(id);
      if (b) states.push(b);
    }
    if (states.length > 0) await this.relay(peer, states);
  }

  /**
   * SUMMARY: whether the peer holds the same States as this node (then a
   * gossip round with it has nothing to do). One try: the round is repeated
   * with someone in a few seconds anyway.
   */
  async sameStates(peer: Peer): Promise<boolean> {
    const answer = await this.rpc.call(
      peer.address,
      peer.port,
      MsgType.SUMMARY,
      this.core.summary(),
      { tries: 1 },
    );
    this.core.peers.heard(peer);
    return answer.length === 0;
  }

  /** RELAY: owner-signed States the peer lacks (one try unless told: digests repair a miss). */
  async relay(peer: Peer, states: Uint8Array[], tries = 1): Promise<void> {
    const body = encodeBundle({
      states: fitStates(states, this.core.limits.maxBodyBytes),
      wanted: [],
    });
    await this.rpc.call(peer.address, peer.port, MsgType.RELAY, body, { tries });
  }

  /**
   * Another node's State to a Python peer as an ordinary UPDATE (it takes
   * one from any sender, checking the owner's signature when it knows the
   * owner's key). Its answer, if any, is its own State.
   */
  async pushOther(peer: Peer, state: Uint8Array): Promise<void> {
    const reply = await this.rpc.call(peer.address, peer.port, MsgType.UPDATE, state, { tries: 1 });
    if (reply.length > 0) {
      const { state: s, signed } = decodeStateAsSigned(reply, this.core.limits);
      this.core.offerReply(peer, s, signed);
    }
  }

  /** PROBE: asks `via` whether it reaches `target` (SWIM's ping-req). */
  async probeVia(via: Peer, target: Peer, timeoutMs: number): Promise<boolean> {
    const answer = await this.rpc.call(
      via.address,
      via.port,
      MsgType.PROBE,
      encodeProbe(target.id),
      {
        tries: 1,
        timeoutMs,
      },
    );
    return answer.length === 1 && answer[0] === 1;
  }

  /**
   * HELLO then UPDATE: how a node makes itself known to one peer. At most
   * MEETS_AT_ONCE run at a time: when a hundred nodes start together, each
   * meeting everyone, wide fan-outs overload the machine, requests time out
   * and are retried, and the join never ends.
   */
  async meet(address: string, port: number, known?: () => Peer | undefined): Promise<Peer> {
    return this.meets.run(async () => {
      // Met meanwhile, most often because it said Hello first: once is enough.
      const met = known?.();
      if (met) return met;
      const peer = await this.hello(address, port);
      await this.exchange(peer);
      return peer;
    });
  }
  private readonly meets = new Limiter(MEETS_AT_ONCE);

  /** Meets every listed peer not known yet; one that fails does not stop the others. */
  async meetAll(entries: PeerEntry[]): Promise<void> {
    const core = this.core;
    const fresh = entries.filter(
      (e) =>
        e.nodeId !== core.id &&
        !core.peers.has(e.nodeId) &&
        core.allowed(e.nodeId) &&
        e.address !== '' &&
        e.port > 0,
    );
    const known = (id: string) => () => core.peers.get(id);
    await Promise.all(
      fresh.map((e) => this.meet(e.address, e.port, known(e.nodeId)).then(noop, noop)),
    );
  }

  /** Join through one endpoint: HELLO, UPDATE, PEERS, then meet everyone listed. */
  async join(address: string, port: number): Promise<void> {
    const peer = await this.meet(address, port);
    await this.meetAll(await this.peerList(peer));
  }
}

function wrap<T>(address: string, port: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const kept = err instanceof DsnError && err.code === 'DSN_ERR_KEY_MISMATCH';
    throw new PeerError(
      kept ? err.code : 'DSN_ERR_PEER',
      `${address}:${port}: ${(err as Error).message}`,
      undefined,
      { cause: err },
    );
  }
}

const noop = () => {};

const MEETS_AT_ONCE = 4;

/** Runs at most `width` tasks at a time, the others in order of arrival. */
class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly width: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.width) await new Promise<void>((r) => this.waiting.push(r));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
