import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it } from 'node:test';
import { HttpTransport } from '../../src/transport/http.js';

/** A plain HTTP server on 127.0.0.1 answering 200 to everything, optionally with Connection: close. */
async function server(close: boolean): Promise<{ srv: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const srv = createServer({ keepAlive: true }, (req, res) => {
    req.resume();
    req.on('end', () => {
      if (close) res.setHeader('Connection', 'close');
      res.end('ok');
    });
  });
  srv.on('connection', (s) => sockets.push(s));
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return { srv, port: (srv.address() as AddressInfo).port, sockets };
}

describe('HTTP transport: connections closed by the far end', () => {
  it('reports a pooled connection the server closes (its process ended)', {
    timeout: 10_000,
  }, async () => {
    const { srv, port, sockets } = await server(false);
    const heard: string[] = [];
    let report: () => void = () => {};
    const reported = new Promise<void>((resolve) => {
      report = resolve;
    });
    const t = new HttpTransport({
      onHangup: (address, p) => {
        heard.push(`${address}:${p}`);
        report();
      },
    });
    const res = await t.request('127.0.0.1', port, '/ping', Buffer.from(' '), { timeoutMs: 2000 });
    assert.equal(res.status, 200);
    for (const s of sockets) s.end(); // as the kernel does for a process that ends
    await reported;
    assert.deepEqual(heard, [`127.0.0.1:${port}`]);
    await t.close();
    srv.close();
  });

  it('does not report a server that announced "Connection: close"', async () => {
    const { srv, port } = await server(true);
    let heard = 0;
    const t = new HttpTransport({ onHangup: () => heard++ });
    for (let i = 0; i < 3; i++) {
      const res = await t.request('127.0.0.1', port, '/ping', Buffer.from(' '), {
        timeoutMs: 2000,
      });
      assert.equal(res.status, 200);
    }
    // Three connections opened and closed by the server; a fourth request
    // after them proves the closes were processed before the count is read.
    await t.request('127.0.0.1', port, '/ping', Buffer.from(' '), { timeoutMs: 2000 });
    assert.equal(heard, 0);
    await t.close();
    srv.close();
  });
});
