import type { KeyPair } from '../../src/crypto/signing.js';
import {
  type Data,
  encodeData,
  encodeHello,
  encodePeers,
  encodeState,
  type Hello,
  type PeerEntry,
  type Peers,
  type State,
  signedBytesData,
  signedBytesHello,
  signedBytesPeers,
  signedBytesState,
} from '../../src/wire/packets.js';
import { pyJsonDumps } from '../../src/wire/pyjson.js';

/**
 * Encoded packets signed by a key of the test's choosing (unframed, not
 * enveloped): what a genuine node, or a forger holding a stolen key, sends.
 */
const EMPTY = new Uint8Array(0);

/** A Hello of `nodeId` with `kp`'s public key; `overrides.sig` replaces the signature. */
export function signedHello(
  kp: KeyPair,
  nodeId: string,
  port: number,
  overrides: Partial<Hello> = {},
): Uint8Array {
  const h: Hello = {
    version: '0.9.0',
    nodeId,
    address: '',
    port,
    publicKey: kp.publicKey.raw,
    sig: EMPTY,
    detectedAddress: '',
    ...overrides,
  };
  h.sig = overrides.sig ?? kp.sign(signedBytesHello(h));
  return encodeHello(h);
}

export function signedState(
  kp: KeyPair,
  nodeId: string,
  entries: [string, string][],
  lastUpdate: number,
): Uint8Array {
  const s: State = { nodeId, lastUpdate, sig: EMPTY, stateJson: pyJsonDumps(new Map(entries)) };
  s.sig = kp.sign(signedBytesState(s));
  return encodeState(s);
}

export function signedPeers(
  kp: KeyPair,
  nodeId: string,
  connections: PeerEntry[] = [],
): Uint8Array {
  const p: Peers = { nodeId, sig: EMPTY, connections };
  p.sig = kp.sign(signedBytesPeers(p));
  return encodePeers(p);
}

export function signedData(kp: KeyPair, nodeId: string, data: Uint8Array): Uint8Array {
  const d: Data = { nodeId, sig: EMPTY, data };
  d.sig = kp.sign(signedBytesData(d));
  return encodeData(d);
}
