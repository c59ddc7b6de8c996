import type { DSNodeEvents } from '../node/events.js';
import type { NodeView } from '../node/node.js';

/**
 * What the dashboard and `dsn watch` need of a node: its ID, its snapshot,
 * a node's state and its events. DSNodeServer is one; the dashboard depends on this
 * interface only, never on src/server.ts (which loads the dashboard), so the
 * two modules do not import each other.
 */
export interface StateSource {
  nodeId(): string;
  snapshot(): NodeView[];
  /** A copy of a node's state, or null for an unknown node. */
  readState(nodeId: string): Map<string, string> | null;
  on<K extends keyof DSNodeEvents>(event: K, listener: (...args: DSNodeEvents[K]) => void): unknown;
  off<K extends keyof DSNodeEvents>(
    event: K,
    listener: (...args: DSNodeEvents[K]) => void,
  ): unknown;
}

/** A running dashboard page (see startDashboard). */
export interface Dashboard {
  readonly port: number;
  readonly url: string;
  /** Idempotent. */
  close(): Promise<void>;
}
