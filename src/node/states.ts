import { sha } from '../crypto/signing.js';
import type { State } from '../wire/packets.js';
import type { StateMap } from '../wire/pyjson.js';

/** A state held for a node: the packet as signed, its parsed map, and the hash of its text. */
export interface HeldState {
  packet: State;
  map: StateMap;
  /** SHA-256 of the state_json text (the reference drops a State whose hash it already holds). */
  hash: string;
}

export function hashOf(stateJson: string): string {
  return sha('sha256', Buffer.from(stateJson)).toString('hex');
}

/** The placeholder kept for a peer just met: last_update 0, no signature, `{}`. */
export function placeholder(nodeId: string): HeldState {
  const stateJson = '{}';
  return {
    packet: { nodeId, lastUpdate: 0, sig: new Uint8Array(0), stateJson },
    map: new Map(),
    hash: hashOf(stateJson),
  };
}

export function held(packet: State, map: StateMap): HeldState {
  return { packet, map, hash: hashOf(packet.stateJson) };
}

/**
 * Whether `incoming` should replace `current`. Newer wins. The reference
 * would also take an equal `last_update` with a different map, which lets two
 * such states flip back and forth; here the higher hash wins a tie, so every
 * node settles on the same one.
 */
export function supersedes(incoming: HeldState, current: HeldState): boolean {
  if (incoming.packet.lastUpdate !== current.packet.lastUpdate) {
    return incoming.packet.lastUpdate > current.packet.lastUpdate;
  }
  return incoming.hash > current.hash;
}
