import type { MsgType } from '../wire/frame.js';

/** A message type by name, for metrics and logs. */
export type MessageName =
  | 'hello'
  | 'peers'
  | 'update'
  | 'ping'
  | 'data'
  | 'leave'
  | 'digest'
  | 'relay'
  | 'probe'
  | 'summary';

const NAMES: Record<MsgType, MessageName> = {
  1: 'hello',
  2: 'peers',
  3: 'update',
  4: 'ping',
  5: 'data',
  6: 'leave',
  7: 'digest',
  8: 'relay',
  9: 'probe',
  10: 'summary',
};

/** Every message type's name, in type order (for metrics that list each). */
export const MESSAGE_NAMES: readonly MessageName[] = Object.values(NAMES);

export function messageName(type: MsgType): MessageName {
  return NAMES[type];
}

/**
 * Told of the node's traffic as it happens (config `observer`): what a
 * metrics exporter counts. Calls are synchronous and must be cheap; one that
 * throws is ignored.
 */
export interface TrafficObserver {
  /**
   * A request this node made, once it ended: its type, the bytes of its
   * body, the answer's HTTP status (0: no answer — refused, timed out,
   * stopped) and how long it took.
   */
  requested?(type: MessageName, bytes: number, status: number, ms: number): void;
  /** A request this node answered (`type` null: a path that is no message). */
  served?(type: MessageName | null, bytes: number, status: number): void;
  /** An own update went to every peer it was sent to (or their tries ran out), `ms` after updateData. */
  spread?(peers: number, ms: number): void;
}

/** Calls an observer method, ignoring anything it throws. */
export function observe<K extends keyof TrafficObserver>(
  o: TrafficObserver | undefined,
  k: K,
  ...args: Parameters<NonNullable<TrafficObserver[K]>>
): void {
  const f = o?.[k] as ((...a: unknown[]) => void) | undefined;
  if (!f) return;
  try {
    f.apply(o, args);
  } catch {
    // (an observer's failure is not the node's)
  }
}
