import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type DSNodeServer, DsnError, HttpTransport, PeerError } from '../../src/index.js';
import { DEFAULT_LIMITS } from '../../src/wire/limits.js';
import { allSee, LOCAL, next, TestNet, until } from '../helpers/net.js';
import { Forger } from '../helpers/raw.js';

/**
 * DATA as Language Pipes sends it (PROTOCOL.md §9): ~9 KiB per token,
 * ~300 KiB per prefill chunk, 32 MiB model-file chunks, each awaited — over
 * real HTTP on 127.0.0.1 with the network key on.
 */
const T = { timeout: 120_000 };
const MiB = 1024 * 1024;

/** n bytes that differ from any other call's (a shifted counter: cheap at 32 MiB). */
let salt = 0;
function bytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n + 3);
  const s = ++salt;
  for (let i = 0; i < n; i += 4) b.writeUInt32LE((i * 2654435761 + s) >>> 0, i);
  return b.subarray(0, n);
}
const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Sends and resolves with what the receiver got, after the send resolved. */
async function roundTrip(from: DSNodeServer, to: DSNodeServer, data: Uint8Array) {
  const got = next<[string, Uint8Array]>(to, 'receive');
  await from.sendToNode(to.nodeId(), data);
  return got;
}

/** One raw HTTP exchange: writes `head` (and `body`), resolves with the status line's code. */
function rawStatus(
  port: number,
  head: string,
  body?: Uint8Array,
): Promise<{ status: number; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, LOCAL);
    let text = '';
    socket.on('data', (c) => {
      text += c.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) resolve({ status: Number(m[1]), socket });
    });
    socket.on('error', reject);
    socket.write(head);
    if (body) socket.write(body);
  });
}

describe('DATA of every size Language Pipes sends', () => {
  const net = new TestNet();
  let a: DSNodeServer;
  let b: DSNodeServer;
  before(async () => {
    a = await net.start('a');
    b = await net.start('b', { via: a });
    await until([a, b], () => allSee([a, b], ['a', 'b']), 'a and b see each other');
  });
  after(() => net.stopAll());

  it('9 KiB, 300 KiB and 32 MiB arrive byte for byte, both ways', T, async () => {
    for (const n of [9 * 1024, 300 * 1024, 32 * MiB]) {
      for (const [from, to] of [
        [a, b],
        [b, a],
      ] as const) {
        const data = bytes(n);
        const [sender, got] = await roundTrip(from, to, data);
        assert.equal(sender, from.nodeId());
        assert.equal(got.length, n);
        assert.equal(digest(got), digest(data), `${n} bytes ${sender} → ${to.nodeId()}`);
      }
    }
  });

  it(
    'a small DATA sent while a 32 MiB one is in flight to the same peer arrives first',
    T,
    async () => {
      const order: number[] = [];
      const both = new Promise<void>((resolve) => {
        const on = (_id: string, d: Uint8Array) => {
          order.push(d.length);
          if (order.length === 2) {
            b.off('receive', on);
            resolve();
          }
        };
        b.on('receive', on);
      });
      const big = a.sendToNode('b', bytes(32 * MiB)); // on its way: signed, head and first slices written
      await a.sendToNode('b', bytes(9 * 1024));
      await big;
      await both;
      assert.deepEqual(order, [9 * 1024, 32 * MiB]);
    },
  );

  it('a receive callback that throws makes the sender reject with DSN_ERR_REFUSED', T, async () => {
    const refuse = () => {
      throw new Error('job queue full');
    };
    b.on('receive', refuse);
    try {
      for (const n of [9 * 1024, 300 * 1024]) {
        await assert.rejects(a.sendToNode('b', bytes(n)), (err: unknown) => {
          assert.ok(err instanceof DsnError);
          assert.equal(err.code, 'DSN_ERR_REFUSED');
          assert.match(err.message, /b refused the data: receive refused: job queue full/);
          return true;
        });
      }
    } finally {
      b.off('receive', refuse);
    }
    // The same through the callback a ported program sets.
    b.setReceiveCb(refuse);
    await assert.rejects(a.sendToNode('b', bytes(100)), { code: 'DSN_ERR_REFUSED' });
    b.setReceiveCb(() => {});
    const [, got] = await roundTrip(a, b, Buffer.from('after'));
    assert.equal(Buffer.from(got).toString(), 'after');
  });

  it(
    'data over limits.maxDataBytes is refused by the sender before anything is sent',
    T,
    async () => {
      const small = await net.start('small', { via: a, limits: { maxDataBytes: MiB } });
      await until([a, small], () => a.peers().includes('small'), 'a sees small');
      let delivered = 0;
      small.on('receive', () => delivered++);
      const sent = small.node.transport.stats.requestsSent;
      await assert.rejects(small.sendToNode('a', bytes(MiB + 1)), { code: 'DSN_ERR_LIMIT' });
      assert.equal(small.node.transport.stats.requestsSent, sent);
      // A receiver with the lower limit answers 413 before reading the body.
      await assert.rejects(a.sendToNode('small', bytes(2 * MiB)), (err: unknown) => {
        assert.ok(err instanceof PeerError);
        assert.equal(err.status, 413);
        return true;
      });
      assert.equal(delivered, 0);
      const [, got] = await roundTrip(a, small, bytes(MiB));
      assert.equal(got.length, MiB, 'the limit itself is accepted');
    },
  );
});

describe('body limits per message type, before the body is read', () => {
  const net = new TestNet();
  let a: DSNodeServer;
  before(async () => {
    a = await net.start('a');
  });
  after(() => net.stopAll());

  const head = (path: string, length: number) =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`;
  const dataLimit = DEFAULT_LIMITS.maxDataBytes + 1024;

  it(
    'a DATA body over the limit gets 413 without one byte of it sent; the node keeps serving',
    T,
    async () => {
      let delivered = 0;
      a.on('receive', () => delivered++);
      const { status, socket } = await rawStatus(a.port, head('/data', dataLimit + 1));
      socket.destroy();
      assert.equal(status, 413);
      assert.equal(delivered, 0);
      const b = await net.start('b', { via: a });
      const got = next<[string, Uint8Array]>(a, 'receive');
      await b.sendToNode('a', Buffer.from('still serving'));
      assert.equal(Buffer.from((await got)[1]).toString(), 'still serving');
    },
  );

  it('HELLO and PING keep 64 KiB, UPDATE and PEERS limits.maxBodyBytes', T, async () => {
    for (const [path, over] of [
      ['/hello', 64 * 1024 + 1],
      ['/ping', 64 * 1024 + 1],
      ['/update', DEFAULT_LIMITS.maxBodyBytes + 1],
      ['/peers', DEFAULT_LIMITS.maxBodyBytes + 1],
    ] as const) {
      const { status, socket } = await rawStatus(a.port, head(path, over));
      socket.destroy();
      assert.equal(status, 413, path);
    }
  });
});

describe('timeouts of big bodies', () => {
  const net = new TestNet();
  let slow: DSNodeServer;
  let b: DSNodeServer;
  // A 2 s request timeout: a big body may take longer in all (1 MB/s at
  // least), but not stall that long.
  before(async () => {
    slow = await net.start('slow', {
      transport: new HttpTransport({ requestTimeoutMs: 2000, headersTimeoutMs: 2000 }),
    });
    b = await net.start('b', { via: slow });
    await until([slow, b], () => allSee([slow, b], ['slow', 'b']), 'joined');
  });
  after(() => net.stopAll());

  it('a stalled upload is cut with 408 while other requests are served', T, async () => {
    let delivered = 0;
    slow.on('receive', () => delivered++);
    const socket = connect(slow.port, LOCAL);
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c) => {
        text += c.toString('latin1');
      });
      socket.on('close', () => resolve(text));
      socket.on('error', () => {});
    });
    socket.write(`POST /data HTTP/1.1\r\nHost: x\r\nContent-Length: ${8 * MiB}\r\n\r\n`);
    socket.write(Buffer.alloc(MiB)); // then nothing
    // Meanwhile the node serves everyone else, big messages included.
    for (const n of [9 * 1024, 4 * MiB]) {
      const [, got] = await roundTrip(b, slow, bytes(n));
      assert.equal(got.length, n);
    }
    assert.match(await answer, /^HTTP\/1\.1 408 /);
    assert.equal(delivered, 2, 'only the two complete messages were delivered');
  });

  it('a big upload that keeps moving is not cut by the request timeout', T, async () => {
    // A valid DATA from an identity of the test's, trickled in over ~3 s:
    // longer than the 2 s timeout, never silent for long.
    const forger = new Forger('trickler', net.key);
    const hello = await rawPost(slow.port, '/hello', forger.hello(0));
    assert.equal(hello, 200);
    const payload = bytes(4 * MiB);
    const body = forger.data(payload);
    const got = next<[string, Uint8Array]>(slow, 'receive', (id) => id === 'trickler');
    const socket = connect(slow.port, LOCAL);
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c) => {
        text += c.toString('latin1');
        if (/\r\n\r\n/.test(text)) resolve(text);
      });
      socket.on('error', () => {});
    });
    socket.write(`POST /data HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
    const pieces = 12;
    const step = Math.ceil(body.length / pieces);
    for (let at = 0; at < body.length; at += step) {
      socket.write(body.subarray(at, at + step));
      await new Promise((r) => setTimeout(r, 250)); // the pace of a slow link
    }
    assert.match(await answer, /^HTTP\/1\.1 200 /);
    assert.equal(digest((await got)[1]), digest(payload));
    socket.destroy();
  });
});

/** A raw POST's status (the whole answer read). */
async function rawPost(port: number, path: string, body: Uint8Array): Promise<number> {
  const res = await fetch(`http://${LOCAL}:${port}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: Buffer.from(body),
  });
  await res.arrayBuffer();
  return res.status;
}
