import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, it } from 'node:test';
import { PeerHttpServer } from '../../src/transport/http-server.js';
import { newStats } from '../../src/transport/types.js';
import { LOCAL } from '../helpers/net.js';

/**
 * The server reads at most maxBodyMemory bytes of declared bodies at once:
 * a large body that does not fit waits, unread, until another is done, so
 * that many peers sending model files together cannot exhaust memory.
 * Small bodies never wait.
 */
const MiB = 1024 * 1024;
const servers: PeerHttpServer[] = [];
const sockets: Socket[] = [];
after(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => s.close()));
});

/** Resolves with the next value `push` is given. */
function signal<T>() {
  let waiting: ((v: T) => void)[] = [];
  const seen: T[] = [];
  return {
    seen,
    push(v: T) {
      seen.push(v);
      const now = waiting;
      waiting = [];
      for (const w of now) w(v);
    },
    when(match: (v: T) => boolean): Promise<T> {
      const had = seen.find(match);
      if (had !== undefined) return Promise.resolve(had);
      return new Promise((resolve) => {
        const w = (v: T) => (match(v) ? resolve(v) : waiting.push(w));
        waiting.push(w);
      });
    },
  };
}

it('a large body waits for room under maxBodyMemory; a small one never does', async () => {
  const heads = signal<string>(); // the server read a request's head (bodyLimit is asked)
  const sinks = signal<string>(); // a body got room: its sink was made
  const handled = signal<string>();
  const server = new PeerHttpServer(
    (req) => {
      handled.push(req.path);
      return { status: 200, body: Buffer.from('ok') };
    },
    {
      host: LOCAL,
      port: 0,
      maxBodyBytes: 4 * MiB,
      bodyLimit: (path) => {
        heads.push(path);
        return 4 * MiB;
      },
      sink: (path, length) => {
        if (length < MiB) return null; // small bodies are buffered
        sinks.push(path);
        let n = 0;
        return {
          push: (c) => {
            n += c.length;
          },
          finish: () => n,
        };
      },
    },
    newStats(),
    {
      maxHeadBytes: 16 * 1024,
      headersTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 60_000,
      checkIntervalMs: 1000,
      maxConnections: 100,
      maxBodyMemory: 3 * MiB,
    },
  );
  servers.push(server);
  const port = await server.listen();
  const open = async () => {
    const s = connect({ host: LOCAL, port });
    sockets.push(s);
    s.on('error', () => {});
    await once(s, 'connect');
    return s;
  };
  const head = (path: string, n: number) =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${n}\r\n\r\n`;

  const x = await open();
  x.write(head('/x', 2 * MiB));
  x.write(Buffer.alloc(MiB)); // half of it
  await sinks.when((p) => p === '/x');

  const y = await open();
  y.write(head('/y', 2 * MiB)); // 2 + 2 MiB > 3: waits
  y.write(Buffer.alloc(2 * MiB));
  await heads.when((p) => p === '/y');

  const z = await open();
  z.write(`${head('/z', 10)}0123456789`); // small: goes at once
  await handled.when((p) => p === '/z');
  assert.deepEqual(sinks.seen, ['/x'], '/y has no room while /x is being read');
  assert.deepEqual(handled.seen, ['/z']);

  x.write(Buffer.alloc(MiB)); // /x complete: its room goes to /y
  await handled.when((p) => p === '/y');
  assert.deepEqual(handled.seen, ['/z', '/x', '/y']);
  assert.deepEqual(sinks.seen, ['/x', '/y']);
});
