import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DSNodeServer, FakeClock, MemoryNetwork } from '../../src/index.js';
import type { MessageName, TrafficObserver } from '../../src/node/observer.js';

/** The traffic observer (config `observer`) hears of every request made and served. */
it('an observer counts requests made and served by type, with statuses, and each update spread', async () => {
  const clock = new FakeClock(Date.now());
  const network = new MemoryNetwork();
  const made: string[] = [];
  const served: string[] = [];
  const spreads: number[] = [];
  const observer: TrafficObserver = {
    requested: (type: MessageName, bytes, status) => {
      assert.ok(bytes > 0);
      made.push(`${type}:${status}`);
    },
    served: (type, _bytes, status) => served.push(`${type}:${status}`),
    spread: (peers) => spreads.push(peers),
  };
  const base = {
    port: 7000,
    credentialDir: null,
    clock,
    aesKey: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf',
  };
  const a = await DSNodeServer.start({
    ...base,
    nodeId: 'a',
    transport: network.transport('10.0.0.1'),
    observer,
  });
  const b = await DSNodeServer.start({
    ...base,
    nodeId: 'b',
    transport: network.transport('10.0.0.2'),
    bootstrapNodes: [{ address: '10.0.0.1', port: 7000 }],
  });
  assert.ok(served.includes('hello:200') && served.includes('update:200'), served.join());
  const sent = a.updateData('k', 'v');
  await clock.advance(10);
  await sent;
  assert.ok(made.includes('update:204') || made.includes('update:200'), made.join());
  assert.deepEqual(spreads, [1]);
  const data = b.sendToNode('a', Buffer.from('hi'));
  await clock.advance(10);
  await data;
  assert.ok(served.includes('data:200'));
  // A throwing observer does not disturb the node.
  observer.served = () => {
    throw new Error('broken exporter');
  };
  const again = b.sendToNode('a', Buffer.from('still'));
  await clock.advance(10);
  await again;
  await Promise.all([a.stop(), b.stop()]);
});
