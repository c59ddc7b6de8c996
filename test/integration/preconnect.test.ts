import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { DSNodeServer } from '../../src/index.js';
import { USER_AGENT } from '../../src/transport/http1.js';
import { FAST, LOCAL, TestNet } from '../helpers/net.js';
import { Forger, post } from '../helpers/raw.js';

/**
 * A node that is told Hello by a node of this implementation opens a
 * connection to that node's server at once, so that its first message there
 * does not wait for a handshake; a sender that does not say it is one (a
 * Python node) gets a connection only when there is something to send.
 */
describe('connections opened ahead of the first message', () => {
  const net = new TestNet();
  let a: DSNodeServer;
  const servers: Server[] = [];

  before(async () => {
    // The forged peers never answer: a long dead-after keeps them members.
    a = await net.start('a', { aesKey: null, timing: { ...FAST, deadAfterMs: 60_000 } });
  });
  after(async () => {
    for (const s of servers) s.close();
    await net.stopAll();
  });

  /**
   * A plain TCP server standing for a peer's HTTP server: it keeps what it
   * reads, and tells of its first connection and of the first bytes on it.
   */
  async function peerServer() {
    const sockets: Socket[] = [];
    const bytes: Buffer[] = [];
    let connected: (s: Socket) => void = () => {};
    let read: (b: Buffer) => void = () => {};
    const firstConnection = new Promise<Socket>((r) => {
      connected = r;
    });
    const firstBytes = new Promise<Buffer>((r) => {
      read = r;
    });
    const server = createServer((s) => {
      sockets.push(s);
      connected(s);
      s.on('data', (b) => {
        bytes.push(b);
        read(b);
      });
    });
    servers.push(server);
    server.listen(0, LOCAL);
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    return { port, sockets, bytes, firstConnection, firstBytes };
  }

  const opened = () => a.node.transport.stats.connectionsOpened;

  /** The node writes; the UPDATE is the first thing on the peer's one connection, the node's only one there. */
  async function updateArrivesOnOneConnection(
    peer: Awaited<ReturnType<typeof peerServer>>,
    before: number,
  ): Promise<void> {
    void a.updateData('k', String(before)).catch(() => {}); // the peer never answers
    const chunk = await peer.firstBytes;
    assert.match(chunk.toString('latin1'), /^POST \/update HTTP\/1\.1\r\n/);
    assert.equal(opened(), before + 1);
    assert.equal(peer.sockets.length, 1);
  }

  it('a Hello with this implementation’s User-Agent: a connection back, nothing sent on it yet', async () => {
    const peer = await peerServer();
    const x = new Forger('x', null);
    const before = opened();
    const r = await post(a.port, '/hello', x.hello(peer.port), { 'User-Agent': USER_AGENT });
    assert.equal(r.status, 200);
    assert.equal(opened(), before + 1);
    await peer.firstConnection;
    assert.equal(peer.bytes.length, 0);
    // The first message to x goes on that connection: no second one.
    await updateArrivesOnOneConnection(peer, before);
  });

  it('a Hello from any other client: no connection until there is a request', async () => {
    const peer = await peerServer();
    const y = new Forger('y', null);
    const before = opened();
    const r = await post(a.port, '/hello', y.hello(peer.port), {
      'User-Agent': 'python-requests/2.31.0',
    });
    assert.equal(r.status, 200);
    assert.equal(opened(), before);
    await updateArrivesOnOneConnection(peer, before);
  });

  it('a repeated Hello does not open a second connection', async () => {
    const peer = await peerServer();
    const z = new Forger('z', null);
    const before = opened();
    const hello = z.hello(peer.port);
    await post(a.port, '/hello', hello, { 'User-Agent': USER_AGENT });
    await post(a.port, '/hello', hello, { 'User-Agent': USER_AGENT });
    assert.equal(opened(), before + 1);
  });
});
