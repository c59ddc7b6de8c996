import { sha } from '../crypto/signing.js';
import type { State } from '../wire/packets.js';
import type { StateMap } from '../wire/pyjson.js';

/**
 * A state held for a node: the packet as signed (its text in the Python
 * serialisation, see NodeCore.verifyState) and its parsed map. The text
 * stands for the map: equal texts, equal maps.
 */
export interface HeldState {
  packet: State;
  map: StateMap;
}

/** SHA-256 of a state_json text, as the reference compares states (and breaks ties here). */
export function hashOf(stateJson: string): string {
  return sha('sha256', Buffer.from(stateJson)).toString('hex');
}

/** The placeholder kept for a peer just met: last_update 0, no signature, `{}`. */
export function placeholder(nodeId: string): HeldState {
  const stateJson = '{}';
  return { packet: { nodeId, lastUpdate: 0, sig: new Uint8Array(0), stateJson }, map: new Map() };
}

export function held(packet: State, map: StateMap): HeldState {
  return { packet, map };
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
  // (Hashed only then: a hash per accepted State cost as much as a tenth
  // of its signature check on a process woken for one message.)
  return hashOf(incoming.packet.stateJson) > hashOf(current.packet.stateJson);
}
