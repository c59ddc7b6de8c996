import { PeerError } from '../errors.js';
import { type Body, bodyBytes } from '../wire/body.js';
import {
  type ListenOptions,
  newStats,
  type RequestHandler,
  type RequestOptions,
  type Response,
  type Transport,
} from './types.js';

/**
 * An in-memory network for unit tests and simulations: many nodes in one
 * process, no sockets. Links can be cut (`partition`) and hosts taken down;
 * a request to an unreachable host fails at once like a refused connection,
 * or, with `blackhole`, only when its timeout runs out.
 */
export class MemoryNetwork {
  private readonly hosts = new Map<string, RequestHandler>();
  private readonly cut = new Set<string>();
  /** Which transports sent requests to each host: told when it goes away. */
  private readonly dialled = new Map<string, Set<MemoryTransport>>();
  private nextPort = 20000;
  blackhole = false;

  /** A transport whose requests come from `address`. */
  transport(address: string): MemoryTransport {
    return new MemoryTransport(this, address);
  }

  /** Cuts (or with `heal`, restores) every link between the two groups of addresses. */
  partition(a: string[], b: string[]): void {
    for (const x of a) for (const y of b) this.cut.add(`${x}|${y}`).add(`${y}|${x}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** @internal */
  bind(address: string, port: number, handler: RequestHandler): number {
    const p = port === 0 ? this.nextPort++ : port;
    const key = `${address}:${p}`;
    if (this.hosts.has(key)) throw new PeerError('DSN_ERR_PEER', `${key} is already in use`);
    this.hosts.set(key, handler);
    return p;
  }

  /** @internal */
  unbind(address: string, port: number): void {
    const key = `${address}:${port}`;
    this.hosts.delete(key);
    // Like a process that ends: the kernel closes the connections to it.
    for (const client of this.dialled.get(key) ?? []) {
      queueMicrotask(() => client.hungUp(address, port));
    }
    this.dialled.delete(key);
  }

  /** @internal */
  async deliver(
    from: MemoryTransport,
    address: string,
    port: number,
    path: string,
    body: Body,
    opts: RequestOptions,
  ): Promise<Response> {
    await Promise.resolve();
    const handler = this.hosts.get(`${address}:${port}`);
    if (!handler || this.cut.has(`${from.address}|${address}`)) {
      if (this.blackhole) {
        await new Promise((r) => setTimeout(r, opts.timeoutMs));
        throw new PeerError('DSN_ERR_TIMEOUT', `${address}:${port} timed out`);
      }
      throw new PeerError('DSN_ERR_PEER', `${address}:${port} unreachable`);
    }
    // One client transport stands for one connection.
    const key = `${address}:${port}`;
    const clients = this.dialled.get(key) ?? new Set<MemoryTransport>();
    this.dialled.set(key, clients.add(from));
    // Every node here is of this implementation.
    const res = await handler({
      path,
      body: Uint8Array.from(bodyBytes(body)),
      remoteAddress: from.address,
      connection: from,
      onHangup: (listener) => from.onClose(listener),
      sameImplementation: true,
    });
    return { ...res, sameImplementation: true };
  }
}

export class MemoryTransport implements Transport {
  readonly stats = newStats();
  private bound: number | null = null;
  private closed = false;
  private readonly hangups: (() => void)[] = [];
  private hangup: ListenOptions['onHangup'];

  constructor(
    private readonly network: MemoryNetwork,
    readonly address: string,
  ) {}

  async listen(handler: RequestHandler, options: ListenOptions): Promise<number> {
    this.hangup = options.onHangup;
    const counted: RequestHandler = (req) => {
      this.stats.requestsServed++;
      const limit = options.bodyLimit?.(req.path) ?? options.maxBodyBytes;
      if (req.body.length > limit) return { status: 413, body: Buffer.from('body too large') };
      return handler(req);
    };
    this.bound = this.network.bind(this.address, options.port, counted);
    return this.bound;
  }

  async request(
    address: string,
    port: number,
    path: string,
    body: Body,
    options: RequestOptions,
  ): Promise<Response> {
    if (this.closed) throw new PeerError('DSN_ERR_STOPPED', 'transport is closed');
    this.stats.requestsSent++;
    this.stats.bytesSent += body.length;
    const res = await this.network.deliver(this, address, port, path, body, options);
    this.stats.bytesReceived += res.body.length;
    return res;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.bound !== null) this.network.unbind(this.address, this.bound);
    // Like sockets closed by a process that ends: the servers it talked to notice.
    for (const listener of this.hangups.splice(0)) queueMicrotask(listener);
  }

  /** @internal A server this transport sent requests to went away. */
  hungUp(address: string, port: number): void {
    if (!this.closed) this.hangup?.(address, port);
  }

  /** @internal Called once when this transport (its "connection") closes. */
  onClose(listener: () => void): void {
    if (this.closed) queueMicrotask(listener);
    else this.hangups.push(listener);
  }
}
