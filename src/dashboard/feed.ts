import type { DSNodeServer } from '../server.js';

/**
 * What changed: the server's own events, plus `suspect`/`alive` when a
 * peer's liveness flips (the library emits no event for that).
 */
export type ChangeKind = 'update' | 'peer' | 'disconnect' | 'selfUpdate' | 'suspect' | 'alive';

export interface Change {
  kind: ChangeKind;
  node: string;
}

/** How often liveness is compared while anyone listens, in ms. */
export const LIVENESS_CHECK_MS = 1000;

/**
 * One subscription to a server's changes, shared by every listener (each
 * dashboard client, the watch table), so a hundred open pages add four
 * listeners to the server, not four hundred.
 *
 * A peer's `alive` flag changes on a failed or good ping without an event,
 * so while anyone listens the feed compares the flags every second: cheap
 * (one snapshot) and the only timer it runs.
 */
export class ChangeFeed {
  private readonly listeners = new Set<(change: Change) => void>();
  private readonly alive = new Map<string, boolean>();
  private timer: NodeJS.Timeout | null = null;
  private readonly onUpdate = (node: string) => this.emit({ kind: 'update', node });
  private readonly onPeer = (node: string) => this.emit({ kind: 'peer', node });
  private readonly onDisconnect = (node: string) => this.emit({ kind: 'disconnect', node });
  private readonly onSelfUpdate = () =>
    this.emit({ kind: 'selfUpdate', node: this.server.nodeId() });

  constructor(
    private readonly server: DSNodeServer,
    private readonly livenessMs = LIVENESS_CHECK_MS,
  ) {}

  /** Calls `listener` for every change until the returned function is called. */
  subscribe(listener: (change: Change) => void): () => void {
    if (this.listeners.size === 0) this.attach();
    this.listeners.add(listener);
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.detach();
    };
  }

  close(): void {
    this.listeners.clear();
    this.detach();
  }

  private attach(): void {
    this.server.on('update', this.onUpdate);
    this.server.on('peer', this.onPeer);
    this.server.on('disconnect', this.onDisconnect);
    this.server.on('selfUpdate', this.onSelfUpdate);
    this.recordLiveness();
    this.timer = setInterval(() => this.checkLiveness(), this.livenessMs);
    this.timer.unref();
  }

  private detach(): void {
    this.server.off('update', this.onUpdate);
    this.server.off('peer', this.onPeer);
    this.server.off('disconnect', this.onDisconnect);
    this.server.off('selfUpdate', this.onSelfUpdate);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private emit(change: Change): void {
    for (const listener of this.listeners) listener(change);
  }

  private recordLiveness(): void {
    this.alive.clear();
    for (const v of this.server.snapshot()) this.alive.set(v.nodeId, v.alive);
  }

  private checkLiveness(): void {
    if (this.server.isShutDown()) return;
    const before = new Map(this.alive);
    this.recordLiveness();
    for (const [node, alive] of this.alive) {
      const was = before.get(node);
      if (was !== undefined && was !== alive)
        this.emit({ kind: alive ? 'alive' : 'suspect', node });
    }
  }
}
