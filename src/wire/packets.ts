import { createHash } from 'node:crypto';
import { DecodeError } from '../errors.js';
import { Reader, utf8Bytes, Writer } from './bytes.js';
import { type Limits, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, VERSION_MAX_BYTES } from './limits.js';

/**
 * Packet codecs of protocol 0.9.0 (PROTOCOL.md §4). Each packet has
 * `encodeX` (as sent, with its signature), `signedBytesX` (the same with the
 * signature field left out: what the signature covers) and `decodeX`, which
 * checks every length and rejects trailing bytes.
 */

export interface Hello {
  version: string;
  nodeId: string;
  /** The sender's own address, '' when unknown. */
  address: string;
  port: number;
  publicKey: Uint8Array;
  sig: Uint8Array;
  /** In a response: the requester's IP as the responder saw it; '' in requests. */
  detectedAddress: string;
}

export interface PeerEntry {
  nodeId: string;
  /** '' when the sender does not know the address. */
  address: string;
  port: number;
}

export interface Peers {
  nodeId: string;
  sig: Uint8Array;
  connections: PeerEntry[];
}

export interface State {
  nodeId: string;
  /** Seconds since the Unix epoch (big-endian f64 on the wire). */
  lastUpdate: number;
  sig: Uint8Array;
  /** Python `json.dumps` text of the state map (see pyjson.ts). */
  stateJson: string;
}

export interface Data {
  nodeId: string;
  sig: Uint8Array;
  data: Uint8Array;
}

type Part = (w: Writer) => void;

function build(parts: Part[]): Uint8Array {
  const w = new Writer();
  for (const p of parts) p(w);
  return w.finish();
}

// ---- Hello ----------------------------------------------------------------

function helloParts(h: Hello, withSig: boolean, detected: string): Part[] {
  return [
    (w) => w.string(h.version).string(h.nodeId).bytes(utf8Bytes(h.address)).u32(h.port),
    (w) => w.bytes(h.publicKey),
    (w) => (withSig ? w.bytes(h.sig) : w),
    (w) => w.string(detected),
  ];
}

export function encodeHello(h: Hello): Uint8Array {
  return build(helloParts(h, true, h.detectedAddress));
}

/**
 * What a Hello's signature covers. A responder signs before it fills in
 * `detected_address`, so for a response pass `forResponse` to blank it.
 */
export function signedBytesHello(h: Hello, forResponse = false): Uint8Array {
  return build(helloParts(h, false, forResponse ? '' : h.detectedAddress));
}

export function decodeHello(b: Uint8Array, limits: Limits): Hello {
  const r = new Reader(b);
  const h: Hello = {
    version: r.string('hello.version', VERSION_MAX_BYTES),
    nodeId: r.string('hello.node_id', limits.maxNodeIdBytes),
    address: decodeAddress(r.bytes('hello.address', limits.maxAddressBytes)),
    port: r.u32('hello.port'),
    publicKey: r.bytes('hello.public_key', PUBLIC_KEY_BYTES).slice(),
    sig: r.bytes('hello.sig', SIGNATURE_BYTES).slice(),
    detectedAddress: r.string('hello.detected_address', limits.maxAddressBytes),
  };
  r.end('hello');
  requireNodeId(h.nodeId, 'hello');
  if (h.publicKey.length !== PUBLIC_KEY_BYTES) {
    throw new DecodeError(
      'DSN_ERR_MALFORMED',
      `hello.public_key must be ${PUBLIC_KEY_BYTES} bytes`,
    );
  }
  checkPort(h.port, 'hello.port');
  return h;
}

// ---- Peers ----------------------------------------------------------------

function peersParts(p: Peers, withSig: boolean): Part[] {
  return [
    (w) => w.string(p.nodeId),
    (w) => (withSig ? w.bytes(p.sig) : w),
    (w) => {
      w.u32(p.connections.length);
      for (const c of p.connections) {
        w.string(c.nodeId).bytes(
          new Writer(8 + c.address.length).string(c.address).u32(c.port).finish(),
        );
      }
    },
  ];
}

export function encodePeers(p: Peers): Uint8Array {
  return build(peersParts(p, true));
}

export function signedBytesPeers(p: Peers): Uint8Array {
  return build(peersParts(p, false));
}

export function decodePeers(b: Uint8Array, limits: Limits): Peers {
  const r = new Reader(b);
  const nodeId = r.string('peers.node_id', limits.maxNodeIdBytes);
  const sig = r.bytes('peers.sig', SIGNATURE_BYTES).slice();
  const count = r.u32('peers.count');
  if (count > limits.maxPeers) {
    throw new DecodeError(
      'DSN_ERR_LIMIT',
      `peers.count ${count} is over the limit of ${limits.maxPeers}`,
    );
  }
  const connections: PeerEntry[] = [];
  for (let i = 0; i < count; i++) {
    const id = r.string('peers.peer_id', limits.maxNodeIdBytes);
    const ep = new Reader(r.bytes('peers.endpoint', limits.maxAddressBytes + 8));
    const address = ep.string('peers.endpoint.address', limits.maxAddressBytes);
    const port = ep.u32('peers.endpoint.port');
    ep.end('peers.endpoint');
    connections.push({ nodeId: id, address, port });
  }
  r.end('peers');
  requireNodeId(nodeId, 'peers');
  return { nodeId, sig, connections };
}

// ---- State ----------------------------------------------------------------

function stateParts(s: State, withSig: boolean): Part[] {
  return [
    (w) => w.string(s.nodeId).f64(s.lastUpdate),
    (w) => (withSig ? w.bytes(s.sig) : w),
    (w) => w.string(s.stateJson),
  ];
}

export function encodeState(s: State): Uint8Array {
  return build(stateParts(s, true));
}

export function signedBytesState(s: State): Uint8Array {
  return build(stateParts(s, false));
}

export function decodeState(b: Uint8Array, limits: Limits): State {
  return decodeStateAsSigned(b, limits).state;
}

/**
 * Decodes a State and keeps the bytes its signature covers as they arrived
 * (the packet without its signature field): building them again costs more
 * than checking the signature on a process woken for one message. `signed`
 * is null unless the node ID and the text are ASCII, where decoding is the
 * identity and the bytes are exactly what signedBytesState builds.
 */
export function decodeStateAsSigned(
  b: Uint8Array,
  limits: Limits,
): { state: State; signed: Uint8Array | null } {
  const r = new Reader(b);
  const nodeId = r.string('state.node_id', limits.maxNodeIdBytes);
  const lastUpdate = r.f64('state.last_update');
  const sigAt = r.offset;
  const sig = r.bytes('state.sig', SIGNATURE_BYTES).slice();
  const textAt = r.offset;
  const stateJson = r.string('state.state_json', limits.maxBodyBytes);
  r.end('state');
  requireNodeId(nodeId, 'state');
  if (!Number.isFinite(lastUpdate)) {
    throw new DecodeError('DSN_ERR_MALFORMED', 'state.last_update is not a finite number');
  }
  const ascii = sigAt === 12 + nodeId.length && b.length - textAt === 4 + stateJson.length;
  let signed: Uint8Array | null = null;
  if (ascii) {
    signed = new Uint8Array(sigAt + b.length - textAt);
    signed.set(b.subarray(0, sigAt), 0);
    signed.set(b.subarray(textAt), sigAt);
  }
  return { state: { nodeId, lastUpdate, sig, stateJson }, signed };
}

// ---- Data -----------------------------------------------------------------

/**
 * A Data packet's bytes before its payload: node_id, sig and the payload's
 * length. The payload follows as it is (a DATA is sent as these two parts,
 * never copied into one buffer).
 */
export function encodeDataHead(nodeId: string, sig: Uint8Array, dataLength: number): Uint8Array {
  const id = utf8Bytes(nodeId);
  const out = Buffer.allocUnsafe(4 + id.length + 4 + sig.length + 4);
  let at = out.writeUInt32LE(id.length, 0);
  out.set(id, at);
  at = out.writeUInt32LE(sig.length, at + id.length);
  out.set(sig, at);
  out.writeUInt32LE(dataLength, at + sig.length);
  return out;
}

export function encodeData(d: Data): Uint8Array {
  const head = encodeDataHead(d.nodeId, d.sig, d.data.length);
  const out = new Uint8Array(head.length + d.data.length);
  out.set(head, 0);
  out.set(d.data, head.length);
  return out;
}

export function signedBytesData(d: Data): Uint8Array {
  return build([(w) => w.string(d.nodeId), (w) => w.bytes(d.data)]);
}

/**
 * SHA-256 of a Data packet's signed bytes (node_id, then the payload as a
 * `bytes` field), hashed in pieces: no copy of the payload.
 */
export function dataInnerDigest(nodeId: string, data: Uint8Array): Buffer {
  const id = utf8Bytes(nodeId);
  const lengths = Buffer.allocUnsafe(4);
  const h = createHash('sha256');
  lengths.writeUInt32LE(id.length, 0);
  h.update(lengths).update(id);
  lengths.writeUInt32LE(data.length, 0);
  return h.update(lengths).update(data).digest();
}

/** The payload is a view of `b`, not a copy (the body it came in belongs to it alone). */
export function decodeData(b: Uint8Array, limits: Limits): Data {
  const r = new Reader(b);
  const d: Data = {
    nodeId: r.string('data.node_id', limits.maxNodeIdBytes),
    sig: r.bytes('data.sig', SIGNATURE_BYTES).slice(),
    data: r.bytes('data.data', limits.maxDataBytes),
  };
  r.end('data');
  requireNodeId(d.nodeId, 'data');
  return d;
}

// ---- helpers --------------------------------------------------------------

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function decodeAddress(b: Uint8Array): string {
  try {
    return utf8Strict.decode(b);
  } catch {
    throw new DecodeError('DSN_ERR_MALFORMED', 'hello.address is not valid UTF-8');
  }
}

function requireNodeId(id: string, what: string): void {
  if (id.length === 0) throw new DecodeError('DSN_ERR_MALFORMED', `${what}.node_id is empty`);
}

function checkPort(port: number, what: string): void {
  if (port > 65535) throw new DecodeError('DSN_ERR_MALFORMED', `${what} ${port} is not a TCP port`);
}

// ---- Extensions of this implementation ------------------------------------
//
// Sent only to nodes that said they are of this implementation (HTTP:
// User-Agent and Server fields); a Python node never sees them. Each is
// encoded with the same primitives as the packets above.

/** LEAVE: its sender stops cleanly. `at` is newer than any State it signed. */
export interface Leave {
  nodeId: string;
  /** Seconds since the epoch, from the sender's strictly increasing clock. */
  at: number;
  sig: Uint8Array;
}

export function signedBytesLeave(l: Leave): Uint8Array {
  return build([(w) => w.string(l.nodeId).f64(l.at)]);
}

export function encodeLeave(l: Leave): Uint8Array {
  return build([(w) => w.string(l.nodeId).f64(l.at).bytes(l.sig)]);
}

export function decodeLeave(b: Uint8Array, limits: Limits): Leave {
  const r = new Reader(b);
  const l: Leave = {
    nodeId: r.string('leave.node_id', limits.maxNodeIdBytes),
    at: r.f64('leave.at'),
    sig: r.bytes('leave.sig', SIGNATURE_BYTES).slice(),
  };
  r.end('leave');
  requireNodeId(l.nodeId, 'leave');
  return l;
}

/** One line of a digest: a node, and the last_update of its State held. */
export interface DigestEntry {
  nodeId: string;
  lastUpdate: number;
}

/** DIGEST request: which State of which node the sender holds. */
export function encodeDigest(entries: readonly DigestEntry[]): Uint8Array {
  const w = new Writer(16 + entries.length * 24);
  w.u32(entries.length);
  for (const e of entries) w.string(e.nodeId).f64(e.lastUpdate);
  return w.finish();
}

export function decodeDigest(b: Uint8Array, limits: Limits): DigestEntry[] {
  const r = new Reader(b);
  const n = r.u32('digest.count');
  // Each entry takes at least 12 bytes: a count larger than that is a lie.
  if (n > limits.maxPeers + 1 || n * 12 > b.length) {
    throw new DecodeError('DSN_ERR_LIMIT', `digest of ${n} entries`);
  }
  const out: DigestEntry[] = [];
  for (let i = 0; i < n; i++) {
    const nodeId = r.string('digest.node_id', limits.maxNodeIdBytes);
    const lastUpdate = r.f64('digest.last_update');
    if (nodeId === '' || !Number.isFinite(lastUpdate)) {
      throw new DecodeError('DSN_ERR_MALFORMED', 'digest entry');
    }
    out.push({ nodeId, lastUpdate });
  }
  r.end('digest');
  return out;
}

/**
 * `xs` sorted by node ID in the byte order of the IDs' UTF-8: the order
 * every node of this implementation agrees on (summaries, the relay tree).
 */
export function inIdOrder<T>(xs: readonly T[], id: (x: T) => string): T[] {
  const keyed = xs.map((x) => ({ x, k: Buffer.from(id(x), 'utf8') }));
  keyed.sort((a, b) => Buffer.compare(a.k, b.k));
  return keyed.map((e) => e.x);
}

/** Bytes of a digest summary: a truncated SHA-256, enough to tell two digests apart. */
export const SUMMARY_BYTES = 16;

/**
 * A digest's summary: SHA-256 over its encoding (encodeDigest) with the
 * entries in node-ID order, truncated. Two nodes with equal summaries hold
 * the same States of the same nodes.
 */
export function digestSummary(entries: readonly DigestEntry[]): Uint8Array {
  const sorted = encodeDigest(inIdOrder(entries, (e) => e.nodeId));
  return createHash('sha256').update(sorted).digest().subarray(0, SUMMARY_BYTES);
}

/** SUMMARY request: the asker's digest summary. */
export function decodeSummary(b: Uint8Array): Uint8Array {
  if (b.length !== SUMMARY_BYTES) {
    throw new DecodeError('DSN_ERR_MALFORMED', `a summary is ${SUMMARY_BYTES} bytes`);
  }
  return b;
}

/**
 * States sent on (a DIGEST answer, a RELAY): each an encoded State signed by
 * its owner, then (DIGEST answers) the node IDs whose States the sender
 * would like.
 */
export interface StateBundle {
  states: Uint8Array[];
  wanted: string[];
}

export function encodeBundle(b: StateBundle): Uint8Array {
  const w = new Writer(64 + b.states.reduce((n, s) => n + s.length + 4, 0));
  w.u32(b.states.length);
  for (const s of b.states) w.bytes(s);
  w.u32(b.wanted.length);
  for (const id of b.wanted) w.string(id);
  return w.finish();
}

/** The first of `states` that fit in a bundle of `max` bytes (the rest wait for the next round). */
export function fitStates(states: Uint8Array[], max: number): Uint8Array[] {
  let room = max - 64;
  const out: Uint8Array[] = [];
  for (const s of states) {
    room -= s.length + 4;
    if (room < 0) break;
    out.push(s);
  }
  return out;
}

export function decodeBundle(b: Uint8Array, limits: Limits): StateBundle {
  const r = new Reader(b);
  const n = r.u32('bundle.count');
  if (n > limits.maxPeers + 1 || n * 4 > b.length) {
    throw new DecodeError('DSN_ERR_LIMIT', `bundle of ${n} states`);
  }
  const states: Uint8Array[] = [];
  for (let i = 0; i < n; i++) states.push(r.bytes('bundle.state', limits.maxBodyBytes));
  const m = r.u32('bundle.wanted');
  if (m > limits.maxPeers + 1 || m * 4 > b.length) {
    throw new DecodeError('DSN_ERR_LIMIT', `bundle wants ${m} states`);
  }
  const wanted: string[] = [];
  for (let i = 0; i < m; i++) wanted.push(r.string('bundle.wanted', limits.maxNodeIdBytes));
  r.end('bundle');
  return { states, wanted };
}

/** PROBE (an indirect ping, SWIM's ping-req): reach this node for me. */
export function encodeProbe(target: string): Uint8Array {
  return build([(w) => w.string(target)]);
}

export function decodeProbe(b: Uint8Array, limits: Limits): string {
  const r = new Reader(b);
  const target = r.string('probe.target', limits.maxNodeIdBytes);
  r.end('probe');
  requireNodeId(target, 'probe');
  return target;
}
