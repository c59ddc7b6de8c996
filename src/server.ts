import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { systemClock } from './clock.js';
import { DSNodeConfig, type DSNodeConfigInit } from './config.js';
import type { Dashboard } from './dashboard/source.js';
import { DsnError } from './errors.js';
import type { DSNodeEvents } from './node/events.js';
import { DSNode, type NodeView } from './node/node.js';
import { NodeLog } from './node-log.js';

// The dashboard depends on no module of this one (only on its own
// StateSource interface, which this class satisfies); it is loaded on demand.
export type { Dashboard } from './dashboard/source.js';

export interface DSNodeCallbacks {
  /** Operator-facing problems, e.g. no bootstrap node admitted this node. */
  onAlert?(message: string): void;
  /** A peer's state changed. */
  onUpdate?(nodeId: string): void;
  /** A peer is gone: it failed (`disconnect`) or said goodbye (`leave`). */
  onDisconnect?(nodeId: string): void;
  /** DATA from a peer. */
  onReceive?(nodeId: string, data: Uint8Array): void;
}

/** A new network key: 16 random bytes as 32 hex characters. */
export function generateKey(): string {
  return randomBytes(16).toString('hex');
}

/**
 * A running DSN node: the public face of the library.
 *
 * ```ts
 * const server = await DSNodeServer.start({ nodeId: 'a', port: 8000, aesKey }, { onUpdate: (id) => … });
 * await server.updateData('status', 'online');
 * server.readData('b', 'status');
 * ```
 *
 * Events (`update`, `peer`, `disconnect`, `receive`, `alert`) fire besides the
 * callbacks. A listener that throws does not disturb the node: its error is
 * reported as an `alert`.
 */
export class DSNodeServer extends EventEmitter<DSNodeEvents> {
  /** The node itself: `server.node.updateData(…)`, `readData`, `peers` as in the Python documents. */
  node!: DSNode;
  readonly config: DSNodeConfig;
  /** The dashboard page, when `dashboard` was configured. */
  dashboard: Dashboard | null = null;
  private readonly callbacks: DSNodeCallbacks;
  /** `<loggingDir>/<nodeId>.log`, when loggingDir is set (src/node-log.ts). */
  private readonly log: NodeLog | null;

  private constructor(config: DSNodeConfig, callbacks: DSNodeCallbacks) {
    super();
    this.config = config;
    this.callbacks = { ...callbacks };
    // The first listener (a callback that throws stops the ones after it),
    // attached before the node starts: the join's peers and alerts are logged too.
    const dir = config.loggingDir;
    this.log = dir
      ? new NodeLog(dir, config.nodeId, config.clock ?? systemClock, (m) =>
          this.safeEmit('alert', m),
        ).attach(this)
      : null;
    this.on('alert', (m) => this.callbacks.onAlert?.(m));
    this.on('update', (id) => this.callbacks.onUpdate?.(id));
    // Ported programs hear of every peer that goes, as the Python callback
    // does; the events tell a failure (`disconnect`) from a goodbye (`leave`).
    this.on('disconnect', (id) => this.callbacks.onDisconnect?.(id));
    this.on('leave', (id) => this.callbacks.onDisconnect?.(id));
    this.on('receive', (id, data) => this.callbacks.onReceive?.(id, data));
  }

  /** Listens, joins through the bootstrap nodes, and resolves once joined. */
  static async start(
    config: DSNodeConfigInit | DSNodeConfig,
    callbacks: DSNodeCallbacks = {},
  ): Promise<DSNodeServer> {
    const server = new DSNodeServer(DSNodeConfig.from(config), callbacks);
    try {
      server.node = await DSNode.start(server.config, (event, ...args) =>
        server.safeEmit(event, ...args),
      );
    } catch (err) {
      await server.log?.close();
      throw err;
    }
    if (server.config.dashboard) {
      try {
        const { startDashboard } = await import('./dashboard/server.js');
        server.dashboard = await startDashboard(server, server.config.dashboard);
      } catch (err) {
        await server.node.stop();
        await server.log?.close();
        throw err;
      }
    }
    return server;
  }

  static generateKey(): string {
    return generateKey();
  }

  private safeEmit<K extends keyof DSNodeEvents>(event: K, ...args: DSNodeEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: DSNodeEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      const why = (err as Error)?.message ?? String(err);
      // A DATA refused by its receiver (a full queue, say): the sender is
      // answered 503 and its sendToNode rejects with DSN_ERR_REFUSED.
      if (event === 'receive') throw new DsnError('DSN_ERR_REFUSED', `receive refused: ${why}`);
      const message = `a listener of '${event}' threw: ${why}`;
      if (event === 'alert') process.emitWarning(message);
      else this.safeEmit('alert', message);
    }
  }

  /** The port the server listens on (useful with `port: 0`). */
  get port(): number {
    return this.node.port;
  }

  nodeId(): string {
    return this.node.nodeId();
  }

  peers(): string[] {
    return this.node.peers();
  }

  readData(nodeId: string, key: string): string | null {
    return this.node.readData(nodeId, key);
  }

  /** A copy of a node's whole state in key order, or null for an unknown node. */
  readState(nodeId: string): Map<string, string> | null {
    return this.node.readState(nodeId);
  }

  /** What this node knows of every node, itself first (see NodeView). */
  snapshot(): NodeView[] {
    return this.node.snapshot();
  }

  updateData(key: string, value: string): Promise<void> {
    return this.node.updateData(key, value);
  }

  deleteData(key: string): Promise<void> {
    return this.node.deleteData(key);
  }

  sendToNode(nodeId: string, data: Uint8Array | string): Promise<void> {
    return this.node.sendToNode(nodeId, data);
  }

  setReceiveCb(cb: (nodeId: string, data: Uint8Array) => void): void {
    this.callbacks.onReceive = cb;
  }

  setUpdateCb(cb: (nodeId: string) => void): void {
    this.callbacks.onUpdate = cb;
  }

  setDisconnectCb(cb: (nodeId: string) => void): void {
    this.callbacks.onDisconnect = cb;
  }

  isShutDown(): boolean {
    return this.node.isShutDown();
  }

  /** Stops the dashboard, then the node, then flushes the log file; idempotent. */
  async stop(): Promise<void> {
    await this.dashboard?.close();
    await this.node.stop();
    await this.log?.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
