import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DSNodeEvents } from '../node/events.js';
import type { NodeView } from '../node/node.js';
import { MESSAGE_NAMES, type MessageName, type TrafficObserver } from '../node/observer.js';

/** What the exporter needs of a running node (DSNodeServer is one). */
export interface MetricsSubject {
  nodeId(): string;
  snapshot(): NodeView[];
  on<K extends keyof DSNodeEvents>(event: K, listener: (...args: DSNodeEvents[K]) => void): unknown;
  off<K extends keyof DSNodeEvents>(
    event: K,
    listener: (...args: DSNodeEvents[K]) => void,
  ): unknown;
}

/** `in`: requests this node answered; `out`: requests it made. */
type Direction = 'in' | 'out';

const SPREAD_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DATA_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/**
 * A node's metrics in Prometheus' text format, through prom-client with a
 * registry of its own (never the global one: two nodes in one process keep
 * theirs apart). It is the node's TrafficObserver (config `observer`, so it
 * must exist before the node starts) and, once `attach`ed, a subscriber to
 * its events; the peer gauge is read from the snapshot at scrape time.
 * Every method is a few increments: the node calls them on its hot path.
 */
export class MetricsExporter implements TrafficObserver {
  readonly registry = new Registry();
  private subject: MetricsSubject | null = null;
  private readonly messages: Counter<'type' | 'direction'>;
  private readonly bytes: Counter<'type' | 'direction'>;
  private readonly errors: Counter<'type' | 'direction' | 'status'>;
  private readonly spreadSeconds: Histogram;
  private readonly dataSeconds: Histogram;
  private readonly joins: Counter;
  private readonly evictions: Counter;
  private readonly leaves: Counter;
  private readonly alerts: Counter;
  private readonly info: Gauge<'node_id'>;

  constructor() {
    const registers = [this.registry];
    const exporter = this;
    new Gauge({
      name: 'dsn_peers',
      help: 'Peers in the table by liveness (alive, suspect), read when scraped; the node itself is not counted.',
      labelNames: ['liveness'] as const,
      registers,
      collect() {
        let alive = 0;
        let suspect = 0;
        for (const v of exporter.subject?.snapshot() ?? []) {
          if (v.self) continue;
          if (v.liveness === 'suspect') suspect++;
          else alive++;
        }
        this.set({ liveness: 'alive' }, alive);
        this.set({ liveness: 'suspect' }, suspect);
      },
    });
    this.messages = new Counter({
      name: 'dsn_messages_total',
      help: 'Protocol requests by message type and direction (in: answered by this node, out: made by it).',
      labelNames: ['type', 'direction'] as const,
      registers,
    });
    this.bytes = new Counter({
      name: 'dsn_message_bytes_total',
      help: 'Request body bytes (as on the wire, encrypted) by message type and direction.',
      labelNames: ['type', 'direction'] as const,
      registers,
    });
    for (const type of MESSAGE_NAMES) {
      for (const direction of ['in', 'out'] as const) {
        this.messages.inc({ type, direction }, 0);
        this.bytes.inc({ type, direction }, 0);
      }
    }
    this.errors = new Counter({
      name: 'dsn_request_errors_total',
      help: 'Requests that failed, by type, direction and HTTP status (out: no 2xx answer, status 0 for none at all; in: answered 4xx or 5xx).',
      labelNames: ['type', 'direction', 'status'] as const,
      registers,
    });
    this.spreadSeconds = new Histogram({
      name: 'dsn_update_spread_seconds',
      help: 'Time from an own update to every peer it was sent to having it (or their tries running out).',
      buckets: SPREAD_BUCKETS,
      registers,
    });
    this.dataSeconds = new Histogram({
      name: 'dsn_data_request_seconds',
      help: 'Time of a DATA request this node sent, from sending to the peer answering 2xx.',
      buckets: DATA_BUCKETS,
      registers,
    });
    this.joins = new Counter({
      name: 'dsn_joins_total',
      help: 'Peers met (first contact, or back after an eviction), counting those met while joining.',
      registers,
    });
    this.evictions = new Counter({
      name: 'dsn_evictions_total',
      help: 'Peers declared gone by the failure detector (event disconnect).',
      registers,
    });
    this.leaves = new Counter({
      name: 'dsn_leaves_total',
      help: 'Peers that stopped cleanly and said so (event leave).',
      registers,
    });
    this.alerts = new Counter({
      name: 'dsn_alerts_total',
      help: 'Alerts raised by the node (see the log for their text).',
      registers,
    });
    this.info = new Gauge({
      name: 'dsn_node_info',
      help: 'Always 1; the label names the node.',
      labelNames: ['node_id'] as const,
      registers,
    });
  }

  /** The Content-Type of `metrics()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in Prometheus' text format. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  requested(type: MessageName, bytes: number, status: number, ms: number): void {
    this.messages.inc({ type, direction: 'out' });
    this.bytes.inc({ type, direction: 'out' }, bytes);
    const ok = status >= 200 && status < 300;
    if (!ok) this.error(type, 'out', status);
    else if (type === 'data') this.dataSeconds.observe(ms / 1000);
  }

  served(type: MessageName | null, bytes: number, status: number): void {
    const name = type ?? 'other';
    this.messages.inc({ type: name, direction: 'in' });
    this.bytes.inc({ type: name, direction: 'in' }, bytes);
    if (status >= 400) this.error(name, 'in', status);
  }

  spread(_peers: number, ms: number): void {
    this.spreadSeconds.observe(ms / 1000);
  }

  /**
   * Counts an alert. Not subscribed by `attach`: the alerts that matter most
   * (no bootstrap node answered) fire before start() resolves, so `dsn
   * start` calls this from its onAlert callback.
   */
  alert(): void {
    this.alerts.inc();
  }

  /**
   * Subscribes to the node's joins, evictions and leaves, and reads its peer
   * table at each scrape. The peers already met (while joining, before
   * there was a node to attach to) count as joins. Returns the detach.
   */
  attach(subject: MetricsSubject): () => void {
    this.subject = subject;
    this.info.set({ node_id: subject.nodeId() }, 1);
    this.joins.inc(subject.snapshot().filter((v) => !v.self).length);
    const onPeer = () => this.joins.inc();
    const onDisconnect = () => this.evictions.inc();
    const onLeave = () => this.leaves.inc();
    subject.on('peer', onPeer);
    subject.on('disconnect', onDisconnect);
    subject.on('leave', onLeave);
    return () => {
      subject.off('peer', onPeer);
      subject.off('disconnect', onDisconnect);
      subject.off('leave', onLeave);
    };
  }

  private error(type: string, direction: Direction, status: number): void {
    this.errors.inc({ type, direction, status: String(status) });
  }
}
