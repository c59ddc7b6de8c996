import { DecodeError } from '../errors.js';
import { CONTROL_BODY_BYTES, type Limits, SIGNATURE_BYTES } from './limits.js';

/**
 * Message types and their paths (PROTOCOL.md §1). Append-only: a number,
 * once used, keeps its meaning forever.
 */
export const MsgType = {
  HELLO: 1,
  PEERS: 2,
  UPDATE: 3,
  PING: 4,
  DATA: 5,
  // Extensions of this implementation (never sent to a Python node).
  LEAVE: 6,
  DIGEST: 7,
  RELAY: 8,
  PROBE: 9,
  SUMMARY: 10,
} as const;
export type MsgType = (typeof MsgType)[keyof typeof MsgType];

export const PATH_OF: Record<MsgType, string> = {
  1: '/hello',
  2: '/peers',
  3: '/update',
  4: '/ping',
  5: '/data',
  6: '/leave',
  7: '/digest',
  8: '/relay',
  9: '/probe',
  10: '/summary',
};

const TYPE_OF_PATH = new Map<string, MsgType>(
  Object.entries(PATH_OF).map(([t, p]) => [p, Number(t) as MsgType]),
);

export function typeOfPath(path: string): MsgType | undefined {
  return TYPE_OF_PATH.get(path);
}

/** A PING carries one space byte. */
export const PING_PAYLOAD = new Uint8Array([0x20]);

/** `[type: 1 byte][payload]` */
export function frame(type: MsgType, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + payload.length);
  out[0] = type;
  out.set(payload, 1);
  return out;
}

/** Splits a plain body, checking its type byte against the expected type. */
export function unframe(body: Uint8Array, expected: MsgType): Uint8Array {
  if (body.length === 0) throw new DecodeError('DSN_ERR_BAD_TYPE', 'empty body');
  if (body[0] !== expected) {
    throw new DecodeError(
      'DSN_ERR_BAD_TYPE',
      `type byte ${body[0]} does not match ${PATH_OF[expected]}`,
    );
  }
  return body.subarray(1);
}

/**
 * Largest body accepted for a message type, sealed (IV and padding
 * included): DATA may be large, the rest stays small.
 */
export function maxBodyFor(type: MsgType | undefined, limits: Limits): number {
  switch (type) {
    case MsgType.DATA:
      // type byte, node_id, sig, the payload's length; IV and up to a block of padding
      return limits.maxDataBytes + 1 + 4 + limits.maxNodeIdBytes + 4 + SIGNATURE_BYTES + 4 + 32;
    case MsgType.UPDATE:
    case MsgType.PEERS:
    case MsgType.DIGEST:
    case MsgType.RELAY:
      return limits.maxBodyBytes;
    default:
      return Math.min(CONTROL_BODY_BYTES, limits.maxBodyBytes);
  }
}
