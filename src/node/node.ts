import { setMaxListeners } from 'node:events';
import { type Clock, systemClock } from '../clock.js';
import type { DSNodeConfig } from '../config.js';
import { type CredentialStore, openCredentialStore } from '../crypto/credentials.js';
import { createEnvelope } from '../crypto/envelope.js';
import { DsnError } from '../errors.js';
import { HttpTransport } from '../transport/http.js';
import type {
  IncomingRequest,
  ListenOptions,
  RequestHandler,
  Response,
  Transport,
} from '../transport/types.js';
import { MsgType, maxBodyFor, PATH_OF, typeOfPath } from '../wire/frame.js';
import { encodeLeave, type Leave, signedBytesLeave } from '../wire/packets.js';
import { NodeCore } from './core.js';
import { dataSink, STREAM_DATA_BYTES } from './data-sink.js';
import type { Emit } from './events.js';
import { createHandler } from './handlers.js';
import { JoinError } from './join.js';
import { messageName, observe, type TrafficObserver } from './observer.js';
import { Outbound } from './outbound.js';
import type { Peer } from './peers.js';
import { delay, Rpc } from './rpc.js';
import { CoalescingSender } from './sender.js';
import { Spreader } from './spread.js';
import { Ticker } from './ticker.js';
import { Timestamps } from './timestamps.js';

/** One node as `snapshot()` describes it. */
export interface NodeView {
  nodeId: string;
  /** True for the node that made the snapshot. */
  self: boolean;
  /** '' when unknown. */
  address: string;
  port: number;
  /** False while pings to it are failing (it is suspected, not yet declared gone). */
  alive: boolean;
  /** What the failure detector says: 'alive' or 'suspect' (this node itself: 'alive'). */
  liveness: 'alive' | 'suspect';
  /** When it was last heard from, ms since the epoch. */
  lastHeardMs: number;
  /** Its state's last_update, seconds since the epoch (0: no state received yet). */
  lastUpdate: number;
  /** Its state, in key order. */
  state: [string, string][];
}

/**
 * One DSN node: owns a State, keeps every peer's, serves the protocol and
 * runs the tick. DSNodeServer is the public facade over it; `server.node`
 * exposes the read/write half for code ported from Python.
 */
export class DSNode {
  /** @internal */
  readonly core: NodeCore;
  private readonly out: Outbound;
  private readonly ticker: Ticker;
  private readonly spreader: Spreader;
  private readonly senders = new Map<Peer, CoalescingSender>();
  private readonly abort: AbortController;
  private stopping: Promise<void> | null = null;

  private constructor(
    config: DSNodeConfig,
    clock: Clock,
    creds: CredentialStore,
    timestamps: Timestamps,
    emit: Emit,
    readonly transport: Transport,
  ) {
    this.core = new NodeCore(
      config,
      clock,
      creds,
      createEnvelope(config.aesKey),
      timestamps,
      emit,
      {
        onBehind: (peer) => this.resend(peer),
        onGone: (peer) => this.forget(peer),
        onStored: (peer, first) => this.spreader.stored(peer, first),
      },
    );
    this.abort = new AbortController();
    // Every request in flight listens on this signal: hundreds at once are normal.
    setMaxListeners(100_000, this.abort.signal);
    const rpc = new Rpc(
      transport,
      this.core.envelope,
      config.timing,
      this.abort.signal,
      clock,
      config.observer,
    );
    this.out = new Outbound(this.core, rpc);
    this.spreader = new Spreader(this.core, this.out, config.spread);
    this.ticker = new Ticker(this.core, this.out, this.spreader, clock);
  }

  /** The request handler and what else the transport is told when it starts listening. */
  private listenOptions(): { handler: RequestHandler; options: ListenOptions } {
    const { core, out, transport } = this;
    const config = core.config;
    const limits = config.limits;
    // Half the request timeout: a Hello waits for this check, and the Python
    // client gives a Hello 2 s.
    const checkMs = config.timing.requestTimeoutMs / 2;
    const handle = createHandler(core, {
      answersAt: (peer) => out.isAt(peer, checkMs),
      reaches: (peer) =>
        out.ping(peer, checkMs).then(
          () => true,
          () => false,
        ),
      preconnect: (peer) => transport.preconnect?.(peer.address, peer.port),
      answerDigest: (theirs) => this.spreader.answerDigest(theirs),
    });
    const handler = observed(handle, config.observer);
    const options: ListenOptions = {
      host: config.host,
      port: config.port,
      maxBodyBytes: limits.maxBodyBytes,
      bodyLimit: (path) => maxBodyFor(typeOfPath(path), limits),
      // Big DATA bodies are decrypted and hashed as they arrive.
      sink: (path, length) =>
        path === DATA_PATH && length >= STREAM_DATA_BYTES
          ? dataSink(core.envelope, length, limits)
          : null,
      onHangup: (address, port) => core.peers.hungUpAt(address, port),
    };
    return { handler, options };
  }

  /** Creates keys, listens, joins through the bootstrap nodes and starts the tick. */
  static async start(config: DSNodeConfig, emit: Emit): Promise<DSNode> {
    const clock = config.clock ?? systemClock;
    const creds = await openCredentialStore(config.credentialDir, config.nodeId);
    const onError = (err: unknown) =>
      emit('alert', `could not persist the clock ceiling: ${(err as Error).message}`);
    const timestamps = new Timestamps(
      clock,
      creds.clockCeiling,
      (c) => creds.saveClockCeiling(c),
      onError,
    );
    await timestamps.reserve().catch((err: Error) => {
      throw new DsnError('DSN_ERR_CONFIG', `cannot write the clock ceiling: ${err.message}`, {
        cause: err,
      });
    });
    const transport =
      config.transport ?? new HttpTransport({ maxResponseBytes: config.limits.maxBodyBytes });
    const node = new DSNode(config, clock, creds, timestamps, emit, transport);
    const { handler, options } = node.listenOptions();
    node.core.port = await transport.listen(handler, options);
    try {
      await node.join(config);
    } catch (err) {
      await node.stop();
      throw err;
    }
    node.ticker.start();
    return node;
  }

  /** Through the bootstrap nodes; with requireJoin, rejects unless one admits this node. */
  private async join(config: DSNodeConfig): Promise<void> {
    let failures = await this.ticker.bootstrap(!config.requireJoin);
    if (!failures || !config.requireJoin) return;
    const clock = this.core.clock;
    const deadline = clock.now() + config.timing.joinTimeoutMs;
    while (failures && !failures.some((f) => f.final) && clock.now() < deadline) {
      await delay(clock, config.timing.reconnectMinMs);
      failures = await this.ticker.bootstrap(false);
    }
    if (failures) throw new JoinError(failures);
  }

  nodeId(): string {
    return this.core.id;
  }

  get port(): number {
    return this.core.port;
  }

  /** Every node ID with a State, this node's own included (as the Python `peers()`). */
  peers(): string[] {
    return [this.core.id, ...this.core.peers.ids()];
  }

  readData(nodeId: string, key: string): string | null {
    const map =
      nodeId === this.core.id ? this.core.own.map : this.core.peers.get(nodeId)?.state.map;
    return map?.get(key) ?? null;
  }

  /** A copy of a node's whole state in key order, or null for an unknown node. */
  readState(nodeId: string): Map<string, string> | null {
    const map =
      nodeId === this.core.id ? this.core.own.map : this.core.peers.get(nodeId)?.state.map;
    return map ? new Map(map) : null;
  }

  /** What this node knows of every node, itself first: for dashboards and tools. */
  snapshot(): NodeView[] {
    const c = this.core;
    const self: NodeView = {
      nodeId: c.id,
      self: true,
      address: c.address,
      port: c.port,
      alive: true,
      liveness: 'alive',
      lastHeardMs: c.clock.now(),
      lastUpdate: c.own.packet.lastUpdate,
      state: [...c.own.map],
    };
    const others = [...c.peers.values()].map(
      (p): NodeView => ({
        nodeId: p.id,
        self: false,
        address: p.address,
        port: p.port,
        alive: p.live.state === 'alive',
        liveness: p.live.state === 'suspect' ? 'suspect' : 'alive', // (dead and left are out of the table)
        lastHeardMs: p.live.lastHeard,
        lastUpdate: p.state.packet.lastUpdate,
        state: [...p.state.map],
      }),
    );
    return [self, ...others];
  }

  /**
   * Sets a key at once (readable before this returns); resolves when the new
   * State has gone to every peer. Bad arguments reject; nothing changes then.
   */
  async updateData(key: string, value: string): Promise<void> {
    checkString(key, 'key');
    checkString(value, 'value');
    const map = new Map(this.core.own.map);
    map.set(key, value);
    if (map.size > this.core.limits.maxKeys) {
      throw new DsnError('DSN_ERR_LIMIT', `a state holds at most ${this.core.limits.maxKeys} keys`);
    }
    return this.publish(map);
  }

  /** Removes a key (Python peers simply see it gone). */
  async deleteData(key: string): Promise<void> {
    checkString(key, 'key');
    if (!this.core.own.map.has(key)) return;
    const map = new Map(this.core.own.map);
    map.delete(key);
    return this.publish(map);
  }

  private async publish(map: Map<string, string>): Promise<void> {
    this.assertRunning();
    this.core.setOwn(map);
    this.core.emit('selfUpdate');
    // Every peer, or past the full mesh a fanout of them (spread.ts).
    const reachable = this.spreader.ownTargets();
    if (this.stopping || reachable.length === 0) return;
    // One promise per update, not one per peer: a writer with thousands of
    // updates in flight keeps far fewer objects alive. Each send takes the
    // newest own State when it starts (signed and encoded then, once).
    const seq = this.core.seq;
    const observer = this.core.config.observer;
    const started = observer ? performance.now() : 0;
    await new Promise<void>((resolve) => {
      let left = reachable.length;
      const done = () => {
        if (--left > 0) return;
        if (observer) observe(observer, 'spread', reachable.length, performance.now() - started);
        resolve();
      };
      for (const peer of reachable) {
        const sender = this.senderFor(peer);
        sender.push(seq);
        sender.whenDone(seq, done);
      }
    });
  }

  /** Sends the own State to one peer again (coalesced with any send in flight). */
  private resend(peer: Peer): void {
    if (this.stopping) return;
    const seq = this.core.seq;
    this.senderFor(peer).push(seq);
  }

  private senderFor(peer: Peer): CoalescingSender {
    let s = this.senders.get(peer);
    if (!s) {
      s = new CoalescingSender(async () => {
        try {
          await this.out.exchange(peer);
        } catch (err) {
          // Tried and given up (the retries are in Rpc): send the newest
          // State again as soon as the peer shows a sign of life; past the
          // full mesh its part of the tree gets it from here meanwhile.
          this.core.peers.fellBehind(peer);
          this.spreader.missed(peer);
          throw err;
        }
      });
      this.senders.set(peer, s);
    }
    return s;
  }

  /** Drops what was kept for a peer that left the table. */
  private forget(peer: Peer): void {
    this.senders.get(peer)?.close();
    this.senders.delete(peer);
    this.spreader.forget(peer);
  }

  async sendToNode(nodeId: string, data: Uint8Array | string): Promise<void> {
    this.assertRunning();
    const peer = this.core.peers.get(nodeId);
    if (!peer)
      throw new DsnError('DSN_ERR_UNKNOWN_NODE', `no peer with ID ${JSON.stringify(nodeId)}`);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (!(bytes instanceof Uint8Array)) {
      throw new DsnError('DSN_ERR_ARGUMENT', `data must be bytes or a string, got ${typeof data}`);
    }
    const max = this.core.limits.maxDataBytes;
    if (bytes.length > max) {
      throw new DsnError(
        'DSN_ERR_LIMIT',
        `${bytes.length} bytes of data is more than limits.maxDataBytes (${max})`,
      );
    }
    await this.out.data(peer, bytes);
  }

  isShutDown(): boolean {
    return this.stopping !== null;
  }

  /**
   * Stops timers, tells the peers of this implementation it leaves (they
   * drop it at once; Python peers notice as they always do), then stops the
   * transport; idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.ticker.stop();
      await this.sayGoodbye();
      this.abort.abort();
      for (const s of this.senders.values()) s.close();
      this.senders.clear();
      await this.transport.close();
      await this.core.timestamps.flushed();
    })();
    return this.stopping;
  }

  /** LEAVE to every peer of this implementation, at once; waits LEAVE_WAIT_MS at most. */
  private async sayGoodbye(): Promise<void> {
    const core = this.core;
    const to = core.peers.reachable().filter((p) => p.sameImpl);
    if (to.length === 0) return;
    const l: Leave = { nodeId: core.id, at: core.timestamps.next(), sig: new Uint8Array(0) };
    l.sig = core.creds.keyPair.sign(signedBytesLeave(l));
    const payload = encodeLeave(l);
    await Promise.allSettled(to.map((p) => this.out.leave(p, payload, LEAVE_WAIT_MS)));
  }

  private assertRunning(): void {
    if (this.stopping) throw new DsnError('DSN_ERR_STOPPED', 'the node is stopped');
  }
}

const DATA_PATH = PATH_OF[MsgType.DATA];

/** The handler, telling the observer (if any) of every request answered. */
function observed(handler: RequestHandler, observer: TrafficObserver | undefined): RequestHandler {
  if (!observer) return handler;
  const tell = (req: IncomingRequest, res: Response) => {
    const type = typeOfPath(req.path);
    const bytes = req.bodyBytes ?? req.body.length;
    observe(observer, 'served', type === undefined ? null : messageName(type), bytes, res.status);
    return res;
  };
  return (req) => {
    const res = handler(req);
    return res instanceof Promise ? res.then((r) => tell(req, r)) : tell(req, res);
  };
}
/** How long stop() waits for peers to take its LEAVE. */
const LEAVE_WAIT_MS = 1000;

function checkString(v: unknown, what: string): void {
  if (typeof v !== 'string')
    throw new DsnError('DSN_ERR_ARGUMENT', `${what} must be a string, got ${typeof v}`);
}
