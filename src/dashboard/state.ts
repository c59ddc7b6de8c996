import type { NodeView } from '../node/node.js';
import type { DSNodeServer } from '../server.js';

/** The body of GET /api/state and of every server-sent event. */
export interface StatePayload {
  /** The ID of the node serving the dashboard. */
  self: string;
  /** The server's clock, ms since the epoch: the page measures ages against it, not its own. */
  now: number;
  nodes: NodeView[];
}

/**
 * The snapshot as the dashboard publishes it. Fields are copied one by one
 * on purpose: anything added to NodeView later (a key, say) must not reach
 * the page without someone deciding it should.
 */
export function statePayload(server: DSNodeServer): StatePayload {
  return {
    self: server.nodeId(),
    now: Date.now(),
    nodes: server.snapshot().map(
      (v): NodeView => ({
        nodeId: v.nodeId,
        self: v.self,
        address: v.address,
        port: v.port,
        alive: v.alive,
        liveness: v.liveness,
        lastHeardMs: v.lastHeardMs,
        lastUpdate: v.lastUpdate,
        state: v.state.map(([k, value]): [string, string] => [k, value]),
      }),
    ),
  };
}
