import type { DSNodeEvents } from '../node/events.js';
import type { NodeView } from '../node/node.js';

/** What the control API needs of a node (DSNodeServer is one). */
export interface ControlSource {
  nodeId(): string;
  /** Every node this one knows, itself first. */
  snapshot(): NodeView[];
  /** A copy of a node's state in key order, or null for an unknown node. */
  readState(nodeId: string): Map<string, string> | null;
  updateData(key: string, value: string): Promise<void>;
  deleteData(key: string): Promise<void>;
  readonly config: {
    readonly limits: {
      readonly maxKeys: number;
      readonly maxBodyBytes: number;
      readonly maxNodeIdBytes: number;
    };
  };
  on<K extends keyof DSNodeEvents>(event: K, listener: (...args: DSNodeEvents[K]) => void): unknown;
  off<K extends keyof DSNodeEvents>(
    event: K,
    listener: (...args: DSNodeEvents[K]) => void,
  ): unknown;
}

/**
 * One event of the stream (GET /v1/events), a line of JSON: `event`, `time`
 * (ms since the epoch), then its fields. `changed` is a Map so that the keys
 * keep their order when written (see toJson).
 */
export type StreamEvent =
  | { event: 'ready' | 'stop'; time: number; nodeId: string }
  | { event: 'peer'; time: number; nodeId: string; address: string; port: number }
  | {
      event: 'update';
      time: number;
      nodeId: string;
      self: boolean;
      changed: Map<string, string>;
      removed: string[];
    }
  | { event: 'suspect' | 'alive' | 'disconnect' | 'leave'; time: number; nodeId: string }
  | { event: 'alert'; time: number; message: string };

type Listener = (e: StreamEvent) => void;

/**
 * Turns the node's events into stream events for every subscriber. An
 * update carries what changed: the hub keeps the last state it saw of each
 * node, but only while someone listens (it starts from a snapshot when the
 * first subscriber comes), so a node nobody monitors pays nothing. Own
 * updates made in one go (several keys of one PUT) become one event.
 */
export class EventHub {
  private readonly listeners = new Set<Listener>();
  private known: Map<string, Map<string, string>> | null = null;
  private selfPending = false;
  private readonly detach: () => void;

  constructor(private readonly source: ControlSource) {
    const on = <K extends keyof DSNodeEvents>(
      event: K,
      f: (...args: DSNodeEvents[K]) => void,
    ): (() => void) => {
      source.on(event, f);
      return () => source.off(event, f);
    };
    const simple = (event: 'suspect' | 'alive' | 'disconnect' | 'leave') => (nodeId: string) => {
      if (event === 'disconnect' || event === 'leave') this.known?.delete(nodeId);
      this.emit({ event, time: Date.now(), nodeId });
    };
    const offs = [
      on('peer', (nodeId) => {
        if (this.listeners.size === 0) return;
        const view = source.snapshot().find((v) => v.nodeId === nodeId);
        this.emit({
          event: 'peer',
          time: Date.now(),
          nodeId,
          address: view?.address ?? '',
          port: view?.port ?? 0,
        });
      }),
      on('update', (nodeId) => this.update(nodeId, false)),
      on('selfUpdate', () => {
        if (this.listeners.size === 0 || this.selfPending) return;
        this.selfPending = true;
        queueMicrotask(() => {
          this.selfPending = false;
          this.update(source.nodeId(), true);
        });
      }),
      on('suspect', simple('suspect')),
      on('alive', simple('alive')),
      on('disconnect', simple('disconnect')),
      on('leave', simple('leave')),
      on('alert', (message) => this.emit({ event: 'alert', time: Date.now(), message })),
    ];
    this.detach = () => {
      for (const off of offs) off();
    };
  }

  /** Calls `listener` with every event from now on; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    if (this.listeners.size === 0) {
      this.known = new Map(this.source.snapshot().map((v) => [v.nodeId, new Map(v.state)]));
    }
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.known = null;
    };
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  close(): void {
    this.detach();
    this.listeners.clear();
    this.known = null;
  }

  private update(nodeId: string, self: boolean): void {
    if (this.listeners.size === 0 || this.known === null) return;
    const now = this.source.readState(nodeId) ?? new Map<string, string>();
    const before = this.known.get(nodeId) ?? new Map<string, string>();
    this.known.set(nodeId, now);
    const changed = new Map([...now].filter(([k, v]) => before.get(k) !== v));
    const removed = [...before.keys()].filter((k) => !now.has(k));
    if (self && changed.size === 0 && removed.length === 0) return;
    this.emit({ event: 'update', time: Date.now(), nodeId, self, changed, removed });
  }

  private emit(e: StreamEvent): void {
    for (const l of [...this.listeners]) l(e);
  }
}
