import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_TIMING, type DSNodeServer } from '../../src/index.js';
import { LOCAL, TestNet, until } from '../helpers/net.js';
import { rawPost, type Tap, useTappedPair } from './wire.js';

/**
 * A Hello carries no time or nonce, and the receiver records the sender at
 * the IP the Hello came from. An eavesdropper without the network key who
 * captured one genuine Hello of b can replay it to a from its own address:
 * a then sends its updates to the attacker instead of b. b keeps gossiping
 * to a, so a keeps hearing from b and never notices; a's states (which
 * only travel from their owner) never reach b again.
 *
 * Requirement (issue: "a network that keeps working"): after such a replay
 * the network still converges. (Found by this test; handlers.ts now keeps a
 * known peer where it is when it still answers there.)
 */
describe('a replayed Hello from another address', () => {
  const pair = useTappedPair();
  let a: DSNodeServer;
  let b: DSNodeServer;
  let tap: Tap;

  before(async () => {
    ({ a, b, tap } = pair);
    await b.updateData('k', 'b joined');
    await until([a], () => a.readData('b', 'k') === 'b joined', 'a sees b');
  });

  it("does not cut the peer off: a's next update still reaches b", async () => {
    const [hello] = tap.bodies('/hello');
    assert.ok(hello, 'the tap saw b say Hello');
    // 127.0.0.2 is a local address where nothing listens: the attacker's host.
    const r = await rawPost(a.port, '/hello', hello, { localAddress: '127.0.0.2' });
    console.log(
      `replayed Hello: ${r.status}; a now has b at ${a.snapshot().find((v) => v.nodeId === 'b')?.address}`,
    );
    await a.updateData('k', 'after the replay');
    await until([b], () => b.readData('a', 'k') === 'after the replay', "b gets a's update", {
      timeoutMs: 15_000,
    });
  });
});

/**
 * The other side of that defence: a node restarted on a new port, whose old
 * endpoint another member has taken meanwhile (a port reused, a DHCP lease
 * passed on). "Still answers at its endpoint" must mean the same node (its
 * signed Hello), not any node holding the network key (a PING): otherwise
 * the restarted node stays recorded at the other member's endpoint and a's
 * updates never reach it.
 */
describe('a restarted node whose old endpoint another member took', () => {
  const net = new TestNet();
  after(() => net.stopAll());

  const freePort = () =>
    new Promise<number>((resolve) => {
      const s = createServer().listen(0, LOCAL, () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });

  it("is found at its new endpoint: a's next update reaches it", async () => {
    // Default timings: the restart happens well before anyone is declared gone.
    const timing = DEFAULT_TIMING;
    const a = await net.start('a', { timing });
    const port = await freePort();
    const x = await net.start('x', { via: a, port, timing });
    await x.updateData('k', 'first life');
    await x.stop();
    await net.start('y', { via: a, port, timing }); // takes x's old endpoint
    const x2 = await net.start('x', { via: a, timing }); // same ID and keys, new port
    await a.updateData('k', 'after the restart');
    await until([x2], () => x2.readData('a', 'k') === 'after the restart', "x gets a's update", {
      timeoutMs: 15_000,
    });
    assert.equal(a.snapshot().find((v) => v.nodeId === 'x')?.port, x2.port);
  });
});
