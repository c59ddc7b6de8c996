import type { NodeView } from '../node/node.js';
import type { StateSource } from './source.js';

/** How a node went: it said goodbye (`leave`) or was declared failed (`disconnect`). */
export type DepartureReason = 'left' | 'failed';

/** A node that is gone, kept listed for a while (see ChangeFeed). */
export interface Departed {
  reason: DepartureReason;
  /** When it went, ms since the epoch (server clock). */
  at: number;
  /** When it stops being listed, ms since the epoch (server clock). */
  until: number;
  /** The last view of it the feed saw; only its ID when none was seen. */
  view: NodeView;
}

/** The body of GET /api/state and of every server-sent event. */
export interface StatePayload {
  /** The ID of the node serving the dashboard. */
  self: string;
  /** The server's clock, ms since the epoch: the page measures ages against it, not its own. */
  now: number;
  nodes: NodeView[];
  /** Nodes gone lately, most recent first; each is listed until its `until`. */
  departed: Departed[];
}

/**
 * The snapshot as the dashboard publishes it. Fields are copied one by one
 * on purpose: anything added to NodeView later (a key, say) must not reach
 * the page without someone deciding it should.
 */
export function statePayload(
  source: StateSource,
  departed: Departed[] = [],
  now = Date.now(),
): StatePayload {
  return {
    self: source.nodeId(),
    now,
    nodes: source.snapshot().map(publicView),
    departed,
  };
}

export function publicView(v: NodeView): NodeView {
  return {
    nodeId: v.nodeId,
    self: v.self,
    address: v.address,
    port: v.port,
    alive: v.alive,
    liveness: v.liveness,
    lastHeardMs: v.lastHeardMs,
    lastUpdate: v.lastUpdate,
    state: v.state.map(([k, value]): [string, string] => [k, value]),
  };
}

/** What is known of a node never seen in a snapshot: its ID. */
export function bareView(nodeId: string): NodeView {
  return {
    nodeId,
    self: false,
    address: '',
    port: 0,
    alive: false,
    liveness: 'suspect',
    lastHeardMs: 0,
    lastUpdate: 0,
    state: [],
  };
}
