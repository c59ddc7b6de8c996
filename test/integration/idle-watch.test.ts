import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, it } from 'node:test';
import { PeerHttpServer } from '../../src/transport/http-server.js';
import { newStats } from '../../src/transport/types.js';
import { LOCAL } from '../helpers/net.js';

/**
 * The server closes keep-alive connections left idle, except those the
 * handler watches for hangups (the node watches the ones its peers
 * authenticated on): closing one of those would read as the peer going away
 * and cost a PING, once per idle connection and keep-alive timeout.
 */
const servers: PeerHttpServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

const request = (path: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx`;

/** A connection that reads whole answers (each ends with its 2-byte body "ok"). */
async function client(
  port: number,
): Promise<{ socket: Socket; ask(path: string): Promise<string> }> {
  const socket = connect({ host: LOCAL, port });
  await once(socket, 'connect');
  let seen = '';
  socket.on('data', (b: Buffer) => {
    seen += b.toString('latin1');
  });
  const ask = async (path: string) => {
    const from = seen.length;
    socket.write(request(path));
    while (!seen.slice(from).endsWith('\r\n\r\nok')) await once(socket, 'data');
    return seen.slice(from);
  };
  return { socket, ask };
}

/** A server whose handler watches connections that ask for /watched; idle after 200 ms. */
async function serve(maxConnections: number): Promise<number> {
  const server = new PeerHttpServer(
    (req) => {
      if (req.path === '/watched') req.onHangup?.(() => {});
      return { status: 200, body: Buffer.from('ok') };
    },
    { host: LOCAL, port: 0, maxBodyBytes: 1024 },
    newStats(),
    {
      maxHeadBytes: 16 * 1024,
      maxBodyMemory: 1 << 20,
      headersTimeoutMs: 5000,
      requestTimeoutMs: 10_000,
      keepAliveTimeoutMs: 200,
      checkIntervalMs: 1000,
      maxConnections,
    },
  );
  servers.push(server);
  return server.listen();
}

it('an idle connection is closed after the keep-alive timeout; one the handler watches stays open', async () => {
  const port = await serve(16);
  // The watched connection goes quiet first, so it has been idle longer
  // than the other one when the server closes that.
  const watched = await client(port);
  assert.match(await watched.ask('/watched'), /^HTTP\/1\.1 200 /);
  const plain = await client(port);
  const closed = once(plain.socket, 'end');
  assert.match(await plain.ask('/plain'), /^HTTP\/1\.1 200 /);
  await closed;
  assert.equal(watched.socket.readyState, 'open');
  assert.match(await watched.ask('/watched'), /^HTTP\/1\.1 200 /, 'and still served');
  watched.socket.destroy();
  plain.socket.destroy();
});

it('watched connections idle too long are closed too once three quarters of the slots are taken', {
  timeout: 30_000,
}, async () => {
  const port = await serve(4);
  const held = [];
  const ended = [];
  for (let i = 0; i < 4; i++) {
    const c = await client(port);
    ended.push(once(c.socket, 'end'));
    assert.match(await c.ask('/watched'), /^HTTP\/1\.1 200 /);
    held.push(c);
  }
  // Nothing else happens: the sweep has to close watched ones until the
  // server is no longer crowded (which ones, and how many, depends on when
  // the sweep runs: at least the first).
  await Promise.race(ended);
  for (const c of held) c.socket.destroy();
});
