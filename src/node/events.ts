/** Events of a node; each also has a callback in DSNodeServer.start's options. */
export interface DSNodeEvents {
  /** A peer's state changed (the new values are readable now). */
  update: [nodeId: string];
  /** A peer joined (first contact). */
  peer: [nodeId: string];
  /** A peer was declared gone: it failed (see `leave` for one that said goodbye). */
  disconnect: [nodeId: string];
  /** A peer stopped cleanly and said so (nodes of this implementation): dropped at once. */
  leave: [nodeId: string];
  /** A probe of a peer failed: it may be gone (not yet declared so). */
  suspect: [nodeId: string];
  /** A suspected peer showed a sign of life again. */
  alive: [nodeId: string];
  /** DATA arrived from a peer. */
  receive: [nodeId: string, data: Uint8Array];
  /** This node's own state changed (updateData / deleteData). */
  selfUpdate: [];
  /** Something an operator should know, e.g. no bootstrap node admitted this node. */
  alert: [message: string];
}

export type Emit = <K extends keyof DSNodeEvents>(event: K, ...args: DSNodeEvents[K]) => void;
