import type { NodeView } from '../node/node.js';
import type { StateSource } from './source.js';
import {
  bareView,
  type Departed,
  type DepartureReason,
  type StatePayload,
  statePayload,
} from './state.js';

/**
 * What changed: the node's own events (a `peer` joined, an `update` of its
 * state, a `suspect` that failed a probe and is `alive` again, a node that
 * said goodbye (`leave`) or was declared failed (`disconnect`), the node's
 * own `selfUpdate`), plus `expire` when a departed node stops being listed.
 */
export type ChangeKind =
  | 'update'
  | 'peer'
  | 'selfUpdate'
  | 'suspect'
  | 'alive'
  | 'leave'
  | 'disconnect'
  | 'expire';

export interface Change {
  kind: ChangeKind;
  node: string;
}

/** How long a node that left or failed stays listed, in ms. */
export const DEPARTED_KEEP_MS = 120_000;

type Relayed = 'update' | 'peer' | 'suspect' | 'alive' | 'leave' | 'disconnect';
const RELAYED: readonly Relayed[] = ['update', 'peer', 'suspect', 'alive', 'leave', 'disconnect'];

/**
 * One subscription to a node's events, shared by every listener (each
 * dashboard client, the watch table), so a hundred open pages add seven
 * listeners to the node, not seven hundred.
 *
 * Liveness comes from the events alone: nothing is polled. The feed also
 * remembers the nodes that went, why and when, for `keepMs`, with the last
 * view of each it handed out, so a page opened after a node left still
 * shows it as left. The one timer it runs is the deadline of the next such
 * record to expire.
 */
export class ChangeFeed {
  private readonly listeners = new Set<(change: Change) => void>();
  /** In the order they went. */
  private readonly departed = new Map<string, Departed>();
  /** The views of the last payload, to remember a departed node by. */
  private lastViews = new Map<string, NodeView>();
  /**
   * Each peer's state as of its last update, so that a node that updates
   * and leaves before the next payload is remembered with its last state.
   */
  private readonly states = new Map<string, [string, string][]>();
  private readonly handlers = new Map<Relayed, (node: string) => void>();
  private readonly onSelfUpdate = () =>
    this.emit({ kind: 'selfUpdate', node: this.source.nodeId() });
  private expiry: NodeJS.Timeout | null = null;
  private opened = false;

  constructor(
    private readonly source: StateSource,
    private readonly keepMs = DEPARTED_KEEP_MS,
  ) {
    for (const kind of RELAYED) this.handlers.set(kind, (node) => this.on(kind, node));
  }

  /** Starts listening to the node; idempotent. */
  open(): this {
    if (this.opened) return this;
    this.opened = true;
    for (const [kind, handler] of this.handlers) this.source.on(kind, handler);
    this.source.on('selfUpdate', this.onSelfUpdate);
    return this;
  }

  /** Calls `listener` for every change until the returned function is called. */
  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The state to show now: every node, and the departed ones still listed. */
  payload(): StatePayload {
    const now = Date.now();
    this.prune(now);
    const p = statePayload(this.source, [...this.departed.values()].reverse(), now);
    this.lastViews = new Map(p.nodes.map((v) => [v.nodeId, v]));
    return p;
  }

  /** Stops listening and forgets every listener; idempotent. */
  close(): void {
    this.listeners.clear();
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = null;
    if (!this.opened) return;
    this.opened = false;
    for (const [kind, handler] of this.handlers) this.source.off(kind, handler);
    this.source.off('selfUpdate', this.onSelfUpdate);
    this.states.clear();
  }

  private on(kind: Relayed, node: string): void {
    if (kind === 'update' || kind === 'peer') {
      if (kind === 'peer') this.departed.delete(node);
      const state = this.source.readState(node);
      if (state) this.states.set(node, [...state]);
    } else if (kind === 'leave') this.went(node, 'left');
    else if (kind === 'disconnect') this.went(node, 'failed');
    this.emit({ kind, node });
  }

  private went(node: string, reason: DepartureReason): void {
    const at = Date.now();
    const seen = this.lastViews.get(node) ?? bareView(node);
    const state = this.states.get(node);
    const view = state ? { ...seen, state } : seen;
    this.lastViews.delete(node);
    this.states.delete(node);
    this.departed.delete(node);
    this.departed.set(node, { reason, at, until: at + this.keepMs, view });
    this.schedule();
  }

  private emit(change: Change): void {
    for (const listener of this.listeners) listener(change);
  }

  /** Drops the records past their time; returns the IDs dropped. */
  private prune(now: number): string[] {
    const gone: string[] = [];
    for (const [node, d] of this.departed) {
      if (d.until > now) continue;
      this.departed.delete(node);
      gone.push(node);
    }
    return gone;
  }

  /** Arms the timer for the earliest record to expire (records expire in the order they went). */
  private schedule(): void {
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = null;
    const first = this.departed.values().next();
    if (first.done || !this.opened) return;
    this.expiry = setTimeout(
      () => {
        this.expiry = null;
        for (const node of this.prune(Date.now())) this.emit({ kind: 'expire', node });
        this.schedule();
      },
      Math.max(0, first.value.until - Date.now()),
    );
    this.expiry.unref();
  }
}
