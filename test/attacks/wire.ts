import { once } from 'node:events';
import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import type { DSNodeServer } from '../../src/index.js';
import { LOCAL, TestNet } from '../helpers/net.js';

/**
 * Tools of an attacker on the wire: a tap that relays HTTP between nodes and
 * keeps a copy of every request body (what an eavesdropper without the
 * network key sees), and a raw POST that can come from another loopback
 * address (127.0.0.0/8 is all local on Linux).
 */

export interface Captured {
  path: string;
  body: Buffer;
}

/** An HTTP relay in front of `targetPort` that records every request body it passes on. */
export class Tap {
  readonly captured: Captured[] = [];
  private server: Server | null = null;
  private readonly agent = new Agent({ keepAlive: true });
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    const server = createServer((req, res) => this.relay(req, res));
    this.server = server;
    server.listen(0, LOCAL);
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  private relay(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? '/';
      this.captured.push({ path, body });
      const out = request(
        {
          host: LOCAL,
          port: this.targetPort,
          path,
          method: req.method,
          agent: this.agent,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      out.end(body);
    });
  }

  bodies(path: string): Buffer[] {
    return this.captured.filter((c) => c.path === path).map((c) => c.body);
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    const s = this.server;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }
}

/**
 * One POST with Node's own client: on a fresh connection (or `agent`'s),
 * optionally from another local address.
 */
export function rawPost(
  port: number,
  path: string,
  body: Uint8Array,
  { localAddress = LOCAL, agent = false }: { localAddress?: string; agent?: Agent | false } = {},
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: LOCAL,
        port,
        path,
        method: 'POST',
        localAddress,
        agent,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface TappedPair {
  net: TestNet;
  a: DSNodeServer;
  b: DSNodeServer;
  /** In front of a: b joined through it, so it holds what an eavesdropper saw. */
  tap: Tap;
}

/** Suite hooks: node a, a Tap in front of it, and b joined through the Tap; all stopped after. */
export function useTappedPair(): TappedPair {
  const pair = { net: new TestNet() } as TappedPair;
  before(async () => {
    pair.a = await pair.net.start('a');
    pair.tap = await new Tap(pair.a.port).start();
    pair.b = await pair.net.start('b', {
      bootstrapNodes: [{ address: LOCAL, port: pair.tap.port }],
    });
  });
  after(async () => {
    await pair.tap?.stop();
    await pair.net.stopAll();
  });
  return pair;
}
