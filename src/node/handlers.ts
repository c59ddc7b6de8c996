import { DsnError, httpStatusOf } from '../errors.js';
import type { IncomingRequest, Response } from '../transport/types.js';
import { frame, MsgType, typeOfPath, unframe } from '../wire/frame.js';
import {
  type Data,
  type DigestEntry,
  dataInnerDigest,
  decodeBundle,
  decodeData,
  decodeDigest,
  decodeHello,
  decodeLeave,
  decodePeers,
  decodeProbe,
  decodeStateAsSigned,
  decodeSummary,
  signedBytesLeave,
  signedBytesPeers,
} from '../wire/packets.js';
import type { NodeCore } from './core.js';
import type { StreamedData } from './data-sink.js';
import type { Peer } from './peers.js';

const text = (s: string) => Buffer.from(s, 'utf8');
const EMPTY = new Uint8Array(0);
const OK = text('OK');
const DIFFERS = new Uint8Array([1]);

/**
 * With a network key, every failure before a message is authenticated —
 * cannot decrypt, wrong type byte, malformed packet, unknown sender, bad
 * signature — gets this one answer, so an attacker learns nothing about the
 * padding of what it sent (the reference's padding oracle, PROTOCOL.md §8).
 * Version mismatch (505) and an update claiming the receiver's own ID (406)
 * can only be reached with a well-formed packet and keep their codes.
 */
/** Failures of a body that did not decrypt into a well-formed packet. */
const UNOPENED = new Set(['DSN_ERR_DECRYPT', 'DSN_ERR_BAD_TYPE']);
/** Hello refusals the operator hears of (NodeCore.refusal). */
const REFUSALS: Partial<Record<string, 'version' | 'whitelist' | 'key'>> = {
  DSN_ERR_VERSION: 'version',
  DSN_ERR_NOT_WHITELISTED: 'whitelist',
  DSN_ERR_KEY_MISMATCH: 'key',
};

const UNIFORM: Response = { status: 401, body: text('not authorized') };
const NO_CONTENT: Response = { status: 204, body: EMPTY };
const KEEPS_CODE = new Set([
  'DSN_ERR_VERSION',
  'DSN_ERR_OWN_ORIGIN',
  'DSN_ERR_STOPPED',
  // Only after the DATA was authenticated: the receiver's callback said no.
  'DSN_ERR_REFUSED',
  // Only after the Hello verified (NodeCore.checkHello): the joiner learns why.
  'DSN_ERR_NOT_WHITELISTED',
  'DSN_ERR_KEY_MISMATCH',
]);

/**
 * The node's request handler: `(path, body, remote IP) → (status, body)`;
 * never throws. Synchronous but for a Hello, which may have to check where
 * a peer answers first (no promise per message on the hot path).
 */
export interface HandlerDeps {
  /** Whether a peer still answers at its recorded endpoint (a Hello asked there). */
  answersAt: (peer: Peer) => Promise<boolean>;
  /** Whether a peer answers a PING now (for another node's PROBE). */
  reaches: (peer: Peer) => Promise<boolean>;
  /** Opens a connection to a peer ahead of the first message. */
  preconnect: (peer: Peer) => void;
  /** Answers a DIGEST (spread.ts). */
  answerDigest: (theirs: DigestEntry[]) => Uint8Array;
}

export function createHandler(
  core: NodeCore,
  deps: HandlerDeps,
): (req: IncomingRequest) => Response | Promise<Response> {
  // An empty answer (a PING's, an UPDATE's when the sender holds the own
  // State) is a 204 without a body, which PROTOCOL.md §1 has every client
  // take as an empty payload: nothing to encrypt here, nothing to decrypt
  // there — the commonest answer of a network in use.
  const ok = (type: MsgType, out: Uint8Array): Response =>
    out.length === 0 ? NO_CONTENT : { status: 200, body: core.envelope.seal(frame(type, out)) };
  const refused = (err: unknown): Response => {
    const status = httpStatusOf(err);
    if (!(err instanceof DsnError) || (status >= 500 && !KEEPS_CODE.has(err.code))) {
      return { status: 500, body: text('internal error') };
    }
    if (core.envelope.encrypted && !KEEPS_CODE.has(err.code)) return UNIFORM;
    return { status, body: text(err.message.slice(0, 200)) };
  };
  return (req) => {
    const type = typeOfPath(req.path);
    if (type === undefined) return { status: 404, body: text('not found') };
    const streamed = req.streamed;
    if (streamed) {
      // A big DATA, decrypted and hashed as it arrived (data-sink.ts); only
      // DATA bodies are read that way.
      if ('error' in streamed) return refused(streamed.error);
      if (type !== MsgType.DATA) return refused(null);
      try {
        const { data, inner } = streamed.value as StreamedData;
        return ok(type, onData(core, data, inner, req));
      } catch (err) {
        return refused(err);
      }
    }
    if (req.body.length === 0) return { status: 400, body: text('empty body') };
    try {
      const payload = unframe(core.envelope.open(req.body), type);
      if (type === MsgType.HELLO) {
        return onHello(core, deps, payload, req).then((out) => ok(type, out), refused);
      }
      if (type === MsgType.PROBE) {
        return onProbe(core, deps, payload).then((out) => ok(type, out), refused);
      }
      return ok(type, dispatch(core, deps, type, payload, req));
    } catch (err) {
      // A Hello that does not open: most likely a node with another network key.
      if (type === MsgType.HELLO && err instanceof DsnError && UNOPENED.has(err.code)) {
        core.refusal(req.remoteAddress, 'undecryptable');
      }
      return refused(err);
    }
  };
}

/** Every message but a Hello and a PROBE (answered asynchronously). */
function dispatch(
  core: NodeCore,
  deps: HandlerDeps,
  type: Exclude<MsgType, typeof MsgType.HELLO | typeof MsgType.PROBE>,
  payload: Uint8Array,
  req: IncomingRequest,
): Uint8Array {
  switch (type) {
    case MsgType.PEERS:
      return onPeers(core, payload, req);
    case MsgType.UPDATE:
      return onUpdate(core, payload, req);
    case MsgType.PING:
      // Exactly one space byte, or the uniform 401: a PING is not
      // authenticated, so answering 200 to anything that merely decrypts
      // would be a padding oracle.
      if (payload.length !== 1 || payload[0] !== 0x20) {
        throw new DsnError('DSN_ERR_MALFORMED', 'a ping carries one space byte');
      }
      core.peers.pingedOn(req.connection);
      return EMPTY;
    case MsgType.DATA: {
      const d = decodeData(payload, core.limits);
      return onData(core, d, dataInnerDigest(d.nodeId, d.data), req);
    }
    case MsgType.LEAVE:
      return onLeave(core, payload);
    case MsgType.DIGEST:
      // Not authenticated (it only says what the asker holds); the States in
      // the answer are signed by their owners.
      return deps.answerDigest(decodeDigest(payload, core.limits));
    case MsgType.RELAY:
      for (const s of decodeBundle(payload, core.limits).states) core.takeRelayed(s);
      return EMPTY;
    case MsgType.SUMMARY:
      // Empty: this node holds the same States as the asker; one byte: not.
      return Buffer.from(decodeSummary(payload)).equals(core.summary()) ? EMPTY : DIFFERS;
  }
}

/** A peer proved who it is: a sign of life, and its connection is now known as its. */
function authenticated(core: NodeCore, peer: Peer, req: IncomingRequest): void {
  core.peers.heard(peer);
  core.peers.bind(req.connection, peer, req.onHangup);
  if (req.sameImplementation && !peer.sameImpl) core.peers.sameImplementation(peer);
}

async function onHello(
  core: NodeCore,
  deps: HandlerDeps,
  payload: Uint8Array,
  req: IncomingRequest,
): Promise<Uint8Array> {
  const h = decodeHello(payload, core.limits);
  let key: ReturnType<NodeCore['checkHello']>;
  try {
    key = core.checkHello(h, false);
  } catch (err) {
    const why = err instanceof DsnError ? REFUSALS[err.code] : undefined;
    if (why) core.refusal(req.remoteAddress, why, h.nodeId);
    throw err;
  }
  const known = core.peers.get(h.nodeId);
  let address = req.remoteAddress;
  let port = h.port;
  if (
    known &&
    (known.address !== address || known.port !== port) &&
    (await deps.answersAt(known))
  ) {
    // A Hello carries no nonce: anyone holding the network key can replay a
    // captured one from elsewhere. A peer that still answers where it is
    // keeps its endpoint; one that restarted elsewhere does not answer there.
    address = known.address;
    port = known.port;
  }
  const same = req.sameImplementation === true;
  const peer = await core.peers.meet(h.nodeId, address, port, key, same);
  core.peers.bind(req.connection, peer, req.onHangup);
  // No push of the own State back to a newcomer: its UPDATE, which follows
  // the Hello, gets the State in the answer. The push cost a third of a
  // join's requests (a 100-node join took 104 s with it, 21–30 s without).
  // A connection to it, though, costs nothing there if it is a node of this
  // implementation: opened now, the first update here does not wait for a
  // handshake (half of a new network's connections open that way). Other
  // servers get a connection only with a request.
  if (same) deps.preconnect(peer);
  return core.hello(req.remoteAddress);
}

/** A request's sender must be allowed and already met (it said Hello). */
function sender(core: NodeCore, nodeId: string): Peer {
  const peer = core.allowed(nodeId) ? core.peers.get(nodeId) : undefined;
  if (!peer) throw new DsnError('DSN_ERR_UNAUTHORIZED', `unknown sender ${nodeId}`);
  return peer;
}

function onPeers(core: NodeCore, payload: Uint8Array, req: IncomingRequest): Uint8Array {
  const p = decodePeers(payload, core.limits);
  const peer = sender(core, p.nodeId);
  if (!peer.key.verify(signedBytesPeers(p), p.sig)) {
    // 406 as the reference answers (401 in encrypted mode, see UNIFORM).
    throw new DsnError('DSN_ERR_MALFORMED', 'peers signature does not verify');
  }
  authenticated(core, peer, req);
  return core.peerList();
}

function onUpdate(core: NodeCore, payload: Uint8Array, req: IncomingRequest): Uint8Array {
  const { state: s, signed } = decodeStateAsSigned(payload, core.limits);
  if (s.nodeId === core.id)
    throw new DsnError('DSN_ERR_OWN_ORIGIN', "update carries this node's own ID");
  const peer = sender(core, s.nodeId);
  // The first UPDATE from a peer just met is answered with the own State even
  // when it is not taken: a node joining with an empty state sends `{}`,
  // which equals the placeholder held for it, and would otherwise not learn
  // this node's state until the next gossip round. A peer known to hold the
  // newest own State already gets an empty answer (a client takes both), so
  // a writer does not decode N−1 copies of states it has. Once answered, the
  // peer is taken to hold it (ackedSeq) — unless it sends the very same
  // State again: then the answer may have been lost (a timeout, a retry),
  // and it gets the own State again.
  const first = peer.state.packet.lastUpdate === 0;
  const outcome = core.offer(peer, s, signed);
  if (outcome !== 'stale') authenticated(core, peer, req);
  const resent = outcome === 'stale' && s.lastUpdate === peer.answeredFor;
  const answer = ((outcome === 'taken' || first) && peer.ackedSeq < core.seq) || resent;
  if (!answer) return EMPTY;
  core.peers.answered(peer, core.seq, s.lastUpdate);
  return core.ownStateBytes();
}

/**
 * `inner` is the SHA-256 of the packet's signed bytes. The receive
 * listeners run before the answer: one that throws (a full job queue) makes
 * it a 503 the sender sees (DSN_ERR_REFUSED), not an OK.
 */
function onData(core: NodeCore, d: Data, inner: Uint8Array, req: IncomingRequest): Uint8Array {
  const peer = sender(core, d.nodeId);
  if (!peer.key.verifyInner(inner, d.sig)) {
    throw new DsnError('DSN_ERR_UNAUTHORIZED', 'data signature does not verify');
  }
  authenticated(core, peer, req);
  core.emit('receive', d.nodeId, d.data);
  return OK;
}

/**
 * A signed goodbye: the peer is dropped at once (`leave`), not looked for
 * again. One signed before the peer's newest State is a replay from an
 * earlier life: ignored.
 */
function onLeave(core: NodeCore, payload: Uint8Array): Uint8Array {
  const l = decodeLeave(payload, core.limits);
  const peer = sender(core, l.nodeId);
  if (!peer.key.verify(signedBytesLeave(l), l.sig)) {
    throw new DsnError('DSN_ERR_UNAUTHORIZED', 'leave signature does not verify');
  }
  if (l.at > peer.state.packet.lastUpdate) core.peers.leave(peer);
  return EMPTY;
}

const REACHED = Uint8Array.of(1);
const NOT_REACHED = Uint8Array.of(0);

/**
 * Another node cannot reach `target` and asks whether this one does: yes if
 * it heard from it within a probe period, else it pings it once.
 */
async function onProbe(
  core: NodeCore,
  deps: HandlerDeps,
  payload: Uint8Array,
): Promise<Uint8Array> {
  const target = core.peers.get(decodeProbe(payload, core.limits));
  if (!target) return NOT_REACHED;
  const recent = core.clock.now() - target.live.lastHeard < core.config.timing.suspectProbeMs;
  if (target.live.state === 'alive' && recent) return REACHED;
  return (await deps.reaches(target)) ? REACHED : NOT_REACHED;
}
