import type { Clock } from '../clock.js';
import type { DSNodeConfig } from '../config.js';
import type { CredentialStore } from '../crypto/credentials.js';
import type { Envelope } from '../crypto/envelope.js';
import { PublicKey } from '../crypto/signing.js';
import { DecodeError, DsnError } from '../errors.js';
import type { Limits } from '../wire/limits.js';
import {
  type DigestEntry,
  decodeStateAsSigned,
  digestSummary,
  encodeHello,
  encodePeers,
  encodeState,
  type Hello,
  type Peers,
  type State,
  signedBytesHello,
  signedBytesPeers,
  signedBytesState,
} from '../wire/packets.js';
import { parseStateText, pyJsonDumps, type StateMap } from '../wire/pyjson.js';
import type { Emit } from './events.js';
import { PeerTable, type PeerTableDeps } from './peer-table.js';
import type { Peer } from './peers.js';
import { type HeldState, held, supersedes } from './states.js';
import type { Timestamps } from './timestamps.js';

export const PROTOCOL_VERSION = '0.9.0';

/** A refused sender is reported at most this often per reason (NodeCore.refusal). */
const REFUSAL_ALERT_MS = 60_000;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

/**
 * What a node knows and the rules for changing it: its identity and own
 * State, the peer table, trust on first use, and which States are accepted.
 * Inbound (handlers.ts) and outbound (outbound.ts) traffic both go through
 * here, so every path applies the same checks.
 */
export class NodeCore {
  readonly id: string;
  readonly limits: Limits;
  /** Every peer, its liveness, and the endpoints lost and looked for. */
  readonly peers: PeerTable;
  /** Own address as others reach it; '' until configured or detected. */
  address: string;
  port = 0;
  own: HeldState;
  /** Number of the own State (the first is 1), bumped with every new one: senders coalesce by it, and a peer that acknowledged it gets empty UPDATE answers. */
  seq = 1;
  private ownEncoded: Uint8Array | null = null;
  private helloCache: { address: string; port: number; sig: Uint8Array } | null = null;
  private readonly whitelist: Set<string> | null;
  private readonly onStored: (peer: Peer, first: boolean) => void;
  /** Bumped with every State stored (own or a peer's): the digest summary is kept until then. */
  private held = 0;
  private summaryCache: { held: number; table: number; bytes: Uint8Array } = {
    held: -1,
    table: -1,
    bytes: new Uint8Array(0),
  };
  private peerListCache: { table: number; bytes: Uint8Array } = {
    table: -1,
    bytes: new Uint8Array(0),
  };
  /** Encoded States of peers, made once per State held (digest answers and relays send them). */
  private readonly encoded = new WeakMap<HeldState, Uint8Array>();

  constructor(
    readonly config: DSNodeConfig,
    readonly clock: Clock,
    readonly creds: CredentialStore,
    readonly envelope: Envelope,
    readonly timestamps: Timestamps,
    readonly emit: Emit,
    membership: Pick<PeerTableDeps, 'onBehind' | 'onGone'> & {
      /**
       * A newer State of `peer` was stored (from it, a reply, or a relay):
       * spread it. `first`: the first held of that peer (met just now).
       */
      onStored: (peer: Peer, first: boolean) => void;
    },
  ) {
    this.onStored = membership.onStored;
    this.id = config.nodeId;
    this.limits = config.limits;
    this.peers = new PeerTable({
      selfId: this.id,
      clock,
      timing: config.timing,
      limits: config.limits,
      creds,
      emit,
      ...membership,
    });
    this.address = config.networkIp ?? '';
    this.whitelist = config.whitelistNodeIds ? new Set(config.whitelistNodeIds) : null;
    this.own = this.unsigned(new Map());
  }

  // ---- own state ----------------------------------------------------------

  /**
   * A new own State for `map` with a fresh, strictly increasing last_update,
   * signed once it is first sent (ownStateBytes): a writer faster than its
   * peers replaces states that never leave, and those are never signed.
   */
  private unsigned(map: StateMap, stateJson = pyJsonDumps(map)): HeldState {
    const packet: State = {
      nodeId: this.id,
      lastUpdate: this.timestamps.next(),
      sig: new Uint8Array(0),
      stateJson,
    };
    return held(packet, map);
  }

  /** Replaces the own State; refuses one that would not fit in a body a peer accepts. */
  setOwn(map: StateMap): void {
    const stateJson = pyJsonDumps(map);
    // Room for the type byte, IV, padding and the other fields.
    const room = this.limits.maxBodyBytes - this.limits.maxNodeIdBytes - 128;
    if (stateJson.length > room) {
      throw new DsnError(
        'DSN_ERR_LIMIT',
        `the state would exceed the body limit of ${this.limits.maxBodyBytes} bytes`,
      );
    }
    this.own = this.unsigned(map, stateJson);
    this.ownEncoded = null;
    this.seq++;
    this.held++;
  }

  /** The own State as sent: signed (now, if not yet) and encoded, once per State. */
  ownStateBytes(): Uint8Array {
    if (this.ownEncoded) return this.ownEncoded;
    const packet = this.own.packet;
    if (packet.sig.length === 0) packet.sig = this.creds.keyPair.sign(signedBytesState(packet));
    this.ownEncoded = encodeState(packet);
    return this.ownEncoded;
  }

  /** The own Hello; its signature covers an empty detected_address (as the reference signs). */
  hello(detectedAddress: string): Uint8Array {
    const c = this.helloCache;
    const h: Hello = {
      version: PROTOCOL_VERSION,
      nodeId: this.id,
      address: this.address,
      port: this.port,
      publicKey: this.creds.keyPair.publicKey.raw,
      sig: new Uint8Array(0),
      detectedAddress: '',
    };
    if (c && c.address === this.address && c.port === this.port) {
      h.sig = c.sig;
    } else {
      h.sig = this.creds.keyPair.sign(signedBytesHello(h));
      this.helloCache = { address: this.address, port: this.port, sig: h.sig };
    }
    h.detectedAddress = detectedAddress;
    return encodeHello(h);
  }

  // ---- trust ----------------------------------------------------------------

  allowed(nodeId: string): boolean {
    return this.whitelist === null || nodeId === this.id || this.whitelist.has(nodeId);
  }

  /**
   * Checks a Hello: version, own ID, signature (the reference does not check
   * it; a response's signature covers an empty detected_address), then the
   * whitelist and trust on first use — those two only once the Hello
   * verified, so their distinct answers tell nothing to someone without the
   * network key. Returns the sender's key.
   */
  checkHello(h: Hello, isResponse: boolean): PublicKey {
    if (h.version !== PROTOCOL_VERSION) {
      throw new DsnError(
        'DSN_ERR_VERSION',
        `protocol version ${h.version} is not ${PROTOCOL_VERSION}`,
      );
    }
    if (h.nodeId === this.id)
      throw new DsnError('DSN_ERR_OWN_ORIGIN', `${h.nodeId} is this node's own ID`);
    if (!PublicKey.isValid(h.publicKey))
      throw new DsnError('DSN_ERR_UNAUTHORIZED', 'public key is not on the curve');
    const key = new PublicKey(h.publicKey);
    if (!key.verify(signedBytesHello(h, isResponse), h.sig)) {
      throw new DsnError('DSN_ERR_UNAUTHORIZED', 'hello signature does not verify');
    }
    if (!this.allowed(h.nodeId)) {
      throw new DsnError('DSN_ERR_NOT_WHITELISTED', `${h.nodeId} is not on this node's whitelist`);
    }
    const known = this.creds.known.get(h.nodeId);
    if (known && !known.equals(key)) {
      throw new DsnError(
        'DSN_ERR_KEY_MISMATCH',
        isResponse
          ? `it answers as ${h.nodeId} with another key than the one stored for ${h.nodeId}${this.whereKey(h.nodeId)}; if ${h.nodeId} was reinstalled, delete that file`
          : `node ID ${h.nodeId} is already known here with another key (trust on first use)`,
      );
    }
    return known ?? key;
  }

  private whereKey(nodeId: string): string {
    const file = this.creds.peerKeyFile(nodeId);
    return file ? ` in ${file}` : ' (in memory: restart this node to forget it)';
  }

  private readonly refusalAlerts = new Map<string, number>();

  /**
   * Tells the operator that a node was refused and why (never a key), at
   * most once a minute per sender and reason: a node retrying its join
   * every few seconds does not flood the alerts.
   */
  refusal(
    remoteAddress: string,
    why: 'undecryptable' | 'version' | 'whitelist' | 'key',
    nodeId = '',
  ): void {
    const key = `${remoteAddress}|${why}|${nodeId}`;
    const now = this.clock.now();
    if (now - (this.refusalAlerts.get(key) ?? Number.NEGATIVE_INFINITY) < REFUSAL_ALERT_MS) return;
    if (this.refusalAlerts.size >= 1000) this.refusalAlerts.clear();
    this.refusalAlerts.set(key, now);
    // A node ID from the network, shown quoted unless it is plain text (no
    // control characters reach an operator's terminal or log).
    const id = /^[\x21-\x7e]+$/.test(nodeId) ? nodeId : JSON.stringify(nodeId);
    const who = nodeId ? `${id} from ${remoteAddress}` : `a request from ${remoteAddress}`;
    const text = {
      undecryptable: `${who} does not decrypt with the network key: a node with another key?`,
      version: `refused ${who}: it speaks another protocol version`,
      whitelist: `refused ${who}: not on the whitelist`,
      key: `refused ${who}: its key differs from the one stored for it${this.whereKey(nodeId)} (trust on first use); if ${id} was reinstalled, delete that file`,
    }[why];
    this.emit('alert', text);
  }

  // ---- states ---------------------------------------------------------------

  /**
   * Verifies a State against the stored key of its node: parse the JSON and
   * check the signature over its Python serialisation (what the Python
   * receiver verifies over) — the text as received when the parser found it
   * to be that already, else the map re-serialised. `signed`: the signed
   * bytes as received (decodeStateAsSigned), used in the first case.
   */
  verifyState(s: State, key: PublicKey, signed: Uint8Array | null = null): HeldState {
    const { map, canonical } = parseStateText(s.stateJson, this.limits);
    const packet = canonical ? s : { ...s, stateJson: pyJsonDumps(map) };
    const bytes = packet === s && signed ? signed : signedBytesState(packet);
    if (!key.verify(bytes, s.sig)) {
      throw new DsnError('DSN_ERR_UNAUTHORIZED', `state of ${s.nodeId} does not verify`);
    }
    return held(packet, map);
  }

  /**
   * Offers `s` for `peer`: taken if it verifies and is newer than what is
   * held (fires `update`). A byte-for-byte copy of the State held is known
   * good without the costly parse and signature check (every accepted UPDATE
   * is answered with the receiver's State, which the sender mostly holds
   * already); everything else is verified first, so that no unauthenticated
   * input gets an answer other than the uniform 401 (see handlers.ts).
   *
   * - 'taken': verified, newer, a new map — or an empty one (fires `update`);
   * - 'same': verified and newer, but the same non-empty map (kept quietly;
   *   the reference answers it as not accepted);
   * - 'stale': the copy held, or a genuine older State — possibly a replay,
   *   so it is no sign of life of the peer.
   *
   * The reference's same-map check skips only non-empty maps (PROTOCOL.md
   * §7): a peer's first `{}`, equal to the placeholder, is an update too.
   */
  offer(peer: Peer, s: State, signed: Uint8Array | null = null): 'taken' | 'same' | 'stale' {
    const held = peer.state.packet;
    if (
      s.lastUpdate === held.lastUpdate &&
      s.stateJson === held.stateJson &&
      sameBytes(s.sig, held.sig)
    ) {
      return 'stale';
    }
    const st = this.verifyState(s, peer.key, signed);
    if (!supersedes(st, peer.state)) return 'stale';
    const sameMap = st.packet.stateJson === peer.state.packet.stateJson;
    const first = peer.state.packet.lastUpdate === 0;
    this.peers.setState(peer, st);
    this.held++;
    this.onStored(peer, first);
    if (sameMap && st.map.size > 0) return 'same';
    this.emit('update', peer.id);
    return 'taken';
  }

  /**
   * A State passed on by someone other than its owner (a digest answer, a
   * RELAY). Verified against the owner's stored key like any other, never
   * stored for a node not in the table (one whose key is known but that was
   * lost is looked for at once instead), never rolling a newer State back.
   * No sign of life of the owner: it did not send it.
   */
  offerRelayed(bytes: Uint8Array): 'taken' | 'same' | 'stale' | 'unknown' {
    const { state, signed } = decodeStateAsSigned(bytes, this.limits);
    if (state.nodeId === this.id || !this.allowed(state.nodeId)) return 'stale';
    const peer = this.peers.get(state.nodeId);
    if (!peer) {
      if (this.creds.known.has(state.nodeId)) this.peers.retrySoon(state.nodeId);
      return 'unknown';
    }
    return this.offer(peer, state, signed);
  }

  /** As offerRelayed; one that does not verify is dropped quietly (the others in a bundle go on). */
  takeRelayed(bytes: Uint8Array): void {
    try {
      this.offerRelayed(bytes);
    } catch {
      // (Malformed or forged: nothing is stored.)
    }
  }

  /** Which State of which node this node holds (its own included): a DIGEST. */
  digest(): DigestEntry[] {
    const out: DigestEntry[] = [{ nodeId: this.id, lastUpdate: this.own.packet.lastUpdate }];
    for (const p of this.peers.values()) {
      const lastUpdate = p.state.packet.lastUpdate;
      if (lastUpdate > 0) out.push({ nodeId: p.id, lastUpdate });
    }
    return out;
  }

  /**
   * The digest's summary (packets.ts digestSummary), made again only after
   * a State was stored or the table changed: in a quiet network of 1,000,
   * gossip between nodes of this implementation sends 16 bytes, not the
   * whole digest and peer list.
   */
  summary(): Uint8Array {
    const c = this.summaryCache;
    const table = this.peers.changes;
    if (c.held !== this.held || c.table !== table) {
      this.summaryCache = { held: this.held, table, bytes: digestSummary(this.digest()) };
    }
    return this.summaryCache.bytes;
  }

  /** The signed PEERS answer: every peer and its endpoint; signed again only after the table changed. */
  peerList(): Uint8Array {
    const table = this.peers.changes;
    if (this.peerListCache.table !== table) {
      const connections = [...this.peers.values()].map((x) => ({
        nodeId: x.id,
        address: x.address,
        port: x.port,
      }));
      const answer: Peers = { nodeId: this.id, sig: new Uint8Array(0), connections };
      answer.sig = this.creds.keyPair.sign(signedBytesPeers(answer));
      this.peerListCache = { table, bytes: encodePeers(answer) };
    }
    return this.peerListCache.bytes;
  }

  /** A node's State as sent (signed by its owner), or null for none held. */
  stateBytes(nodeId: string): Uint8Array | null {
    if (nodeId === this.id) return this.ownStateBytes();
    const st = this.peers.get(nodeId)?.state;
    if (!st || st.packet.lastUpdate === 0) return null;
    let b = this.encoded.get(st);
    if (!b) {
      b = encodeState(st.packet);
      this.encoded.set(st, b);
    }
    return b;
  }

  /** Checks that a State in a reply comes from the peer asked, then offers it. */
  offerReply(peer: Peer, s: State, signed: Uint8Array | null = null): void {
    if (s.nodeId !== peer.id) {
      throw new DecodeError('DSN_ERR_MALFORMED', `reply state is from ${s.nodeId}, not ${peer.id}`);
    }
    this.offer(peer, s, signed);
  }
}
