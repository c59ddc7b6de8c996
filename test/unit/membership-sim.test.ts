import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyPair } from '../../src/crypto/signing.js';
import { type DSNodeConfigInit, DSNodeServer, FakeClock, MemoryNetwork } from '../../src/index.js';
import { encodeState, signedBytesState } from '../../src/wire/packets.js';
import { allSee } from '../helpers/net.js';

/**
 * Membership on the in-memory transport and a fake clock: goodbyes, relayed
 * states across a broken link, partitions of any length, and spreading past
 * the full mesh — in simulated time.
 */
const KEY = 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf';

/** `clocked`: the network runs on the clock too (a silent host's requests then time out in simulated time). */
async function cluster(n: number, extra: Partial<DSNodeConfigInit> = {}, clocked = false) {
  const clock = new FakeClock(Date.now());
  const network = new MemoryNetwork(clocked ? { clock } : {});
  const nodes: DSNodeServer[] = [];
  const addr = (i: number) => `127.0.2.${i + 1}`;
  // On a clocked network a join's messages wait for the clock: run it meanwhile.
  const settle = async <T>(p: Promise<T>): Promise<T> => {
    let done = false;
    void p.finally(() => {
      done = true;
    });
    while (clocked && !done) await clock.advance(5);
    return p;
  };
  for (let i = 0; i < n; i++) {
    nodes.push(
      await settle(
        DSNodeServer.start({
          nodeId: `n${i}`,
          port: 7000,
          aesKey: KEY,
          credentialDir: null,
          clock,
          transport: network.transport(addr(i)),
          bootstrapNodes: i === 0 ? [] : [{ address: addr(0), port: 7000 }],
          ...extra,
        }),
      ),
    );
  }
  const events = (name: 'disconnect' | 'leave' | 'suspect' | 'alive') => {
    const seen: string[] = [];
    for (const s of nodes) s.on(name, (id) => seen.push(`${s.nodeId()}:${id}`));
    return seen;
  };
  const stopAll = () => settle(Promise.all(nodes.map((s) => s.stop())));
  return { clock, network, nodes, addr, events, stopAll, ids: () => nodes.map((s) => s.nodeId()) };
}

describe('membership in simulation', () => {
  it('a clean stop is a goodbye: everyone drops the node at once, as left, and never looks for it', async () => {
    const c = await cluster(4);
    await c.clock.advance(5_000);
    const left = c.events('leave');
    const failed = c.events('disconnect');
    const leaver = c.nodes[3] as DSNodeServer;
    await leaver.stop(); // resolves once the others took the goodbye
    const rest = c.nodes.slice(0, 3);
    assert.deepEqual(left.sort(), ['n0:n3', 'n1:n3', 'n2:n3']);
    assert.ok(allSee(rest, ['n0', 'n1', 'n2']));
    for (const s of rest)
      assert.equal(s.node.core.peers.lost.size, 0, 'a leaver is not looked for');
    await c.clock.advance(30_000);
    assert.deepEqual(failed, [], 'a goodbye is no failure');
    await c.stopAll();
  });

  it('A↛C while both reach B: C holds A’s latest value within two gossip rounds, and neither evicts the other', async () => {
    const c = await cluster(3);
    await c.clock.advance(5_000);
    const [a, b, cc] = c.nodes as [DSNodeServer, DSNodeServer, DSNodeServer];
    const failed = c.events('disconnect');
    c.network.partition([c.addr(0)], [c.addr(2)]);
    // (An update resolves once every peer took it or the tries ran out: on
    // the fake clock, only once the clock moves.)
    const sent = a.updateData('k', 'from A, after the link broke');
    const tick = a.config.timing.tickMs;
    await c.clock.advance(2 * tick);
    await sent;
    assert.equal(b.readData('n0', 'k'), 'from A, after the link broke');
    assert.equal(cc.readData('n0', 'k'), 'from A, after the link broke', 'relayed through B');
    const fromC = cc.updateData('k', 'from C');
    await c.clock.advance(2 * tick);
    await fromC;
    assert.equal(a.readData('n2', 'k'), 'from C');
    await c.clock.advance(60_000); // much longer than the dead-after time
    assert.deepEqual(failed, [], 'B vouches for both: nobody evicted');
    assert.ok(allSee(c.nodes, c.ids()));
    const aAtC = cc.snapshot().find((v) => v.nodeId === 'n0');
    assert.equal(aAtC?.liveness, 'suspect', 'not reached directly: suspect, not gone');
    const alive = c.events('alive');
    c.network.heal();
    await c.clock.advance(5_000);
    assert.ok(alive.includes('n2:n0') && alive.includes('n0:n2'), alive.join());
    await c.stopAll();
  });

  it('a 10-minute 3|3 partition heals within 10 s of the heal, at a bounded cost while split', async () => {
    const c = await cluster(6);
    await c.clock.advance(5_000);
    const left = [c.addr(0), c.addr(1), c.addr(2)];
    const right = [c.addr(3), c.addr(4), c.addr(5)];
    c.network.partition(left, right);
    await c.clock.advance(60_000);
    assert.equal((c.nodes[0] as DSNodeServer).peers().length, 3, 'each side dropped the other');
    const sent = () => c.nodes.map((s) => s.node.transport.stats.requestsSent);
    const before = sent();
    const minutes = 9;
    await c.clock.advance(minutes * 60_000);
    const perNodePerSecond = sent().map((n, i) => (n - (before[i] as number)) / (minutes * 60));
    // Pings and gossip of its own side, and one look for each lost peer at
    // least every reconnectMaxMs (5 s): a few requests a second, not more.
    for (const r of perNodePerSecond) assert.ok(r < 3, `requests per second while split: ${r}`);
    const written = Promise.all(c.nodes.map((s, i) => s.updateData('w', `latest of ${i}`)));
    await c.clock.advance(100);
    c.network.heal();
    await c.clock.advance(10_000);
    await written;
    assert.ok(allSee(c.nodes, c.ids()), 'everyone lists everyone');
    for (const s of c.nodes) {
      for (const [i, o] of c.nodes.entries())
        assert.equal(s.readData(o.nodeId(), 'w'), `latest of ${i}`);
    }
    await c.stopAll();
  });

  it('a silent host one node found dead is checked by the others at once, not at their routine ping', async () => {
    // probesPerSecond 0.02 stretches the routine interval of 19 peers to
    // ~7.5 min, as ~1,000 peers stretch the default one to ~8 min.
    const c = await cluster(20, { timing: { probesPerSecond: 0.02 } }, true);
    await c.clock.advance(20_000);
    assert.ok(allSee(c.nodes, c.ids()));
    const gone = c.events('disconnect');
    const x = c.nodes[15] as DSNodeServer; // 'n15': 7 nodes have smaller IDs (they ping it), 12 larger
    const others = c.nodes.filter((s) => s !== x);
    c.network.blackhole = true; // silent: requests to it time out, nothing refuses
    c.network.partition(
      [c.addr(15)],
      others.map((_, i) => c.addr(i < 15 ? i : i + 1)),
    );
    const evicted = () => gone.filter((e) => e.endsWith(':n15')).length;
    let firstAt = 0;
    for (let s = 0; s < 1200 && evicted() < others.length; s++) {
      await c.clock.advance(1_000);
      if (firstAt === 0 && evicted() > 0) firstAt = c.clock.now();
    }
    assert.equal(evicted(), others.length, 'every other node dropped it');
    // The 12 with larger IDs would wait out their own, longer routine offset:
    // without the check, the last eviction comes ≥ 3 min after the first
    // (230 s in a run). The digests of those that dropped it make the others
    // check it within a few gossip rounds (~50 s in runs, probes included).
    const spread = (c.clock.now() - firstAt) / 1000;
    assert.ok(spread <= 100, `the last eviction came ${spread} s after the first`);
    await c.stopAll();
  });

  it('past spread.fanoutAbove an update travels down a tree: the writer sends fanout, N − 1 in all, everyone at once', async () => {
    const fanout = 3;
    const c = await cluster(24, { spread: { fanoutAbove: 8, fanout } });
    await c.clock.advance(20_000);
    assert.ok(allSee(c.nodes, c.ids()));
    const writer = c.nodes[5] as DSNodeServer;
    const sentBy = (s: DSNodeServer) => s.node.transport.stats.requestsSent;
    const total = () => c.nodes.reduce((n, s) => n + sentBy(s), 0);
    const mine = sentBy(writer);
    const all = total();
    const sent = writer.updateData('k', 'spread');
    await c.clock.advance(50); // well below a gossip round
    await sent;
    const has = () => c.nodes.filter((s) => s.readData('n5', 'k') === 'spread').length;
    assert.equal(has(), c.nodes.length, 'everyone at once, no gossip round needed');
    assert.equal(sentBy(writer) - mine, fanout, 'the writer sends to its fanout only');
    // Each of the 23 others got it once: 23 messages, as the full mesh.
    assert.equal(total() - all, c.nodes.length - 1, 'one message per node reached');
    await c.stopAll();
  });

  it('a node of the tree that does not answer is routed around: its children get the update at once', async () => {
    // Gossip once a minute: what arrives in the next seconds came down the tree.
    const c = await cluster(24, {
      spread: { fanoutAbove: 8, fanout: 2 },
      timing: { tickMs: 60_000 },
    });
    await c.clock.advance(20_000);
    const writer = c.nodes[5] as DSNodeServer;
    // The writer's first child in its tree (node-ID order from the writer on):
    // the root of a third of the tree with a fanout of 2.
    const order = c.ids().sort();
    const head = order[(order.indexOf('n5') + 1) % order.length] as string;
    const h = c.ids().indexOf(head);
    const others = c.nodes.map((_, i) => i).filter((i) => i !== h);
    c.network.partition(
      [c.addr(h)],
      others.map((i) => c.addr(i)),
    );
    // (Not awaited yet: the send to the head is retried on the clock.)
    const sent = writer.updateData('k', 'around');
    // The writer gives the head up after its tries (1 s on this clock), then
    // sends to the head's children itself.
    await c.clock.advance(2_000);
    const missing = others
      .map((i) => c.nodes[i] as DSNodeServer)
      .filter((s) => s !== writer && s.readData('n5', 'k') !== 'around')
      .map((s) => s.nodeId());
    assert.deepEqual(missing, [], `every node but ${head} at once`);
    c.network.heal();
    await c.clock.advance(150_000);
    await sent;
    assert.equal((c.nodes[h] as DSNodeServer).readData('n5', 'k'), 'around', 'and it later');
    await c.stopAll();
  });

  it('a relayed state is checked against its owner’s key, never stored for an unknown owner, never rolls back', async () => {
    const c = await cluster(2);
    await c.clock.advance(5_000);
    const [a, b] = c.nodes as [DSNodeServer, DSNodeServer];
    const first = b.updateData('k', 'old');
    await c.clock.advance(10);
    await first;
    const old = a.node.core.stateBytes('n1');
    assert.ok(old);
    const second = b.updateData('k', 'new');
    await c.clock.advance(10);
    await second;
    const core = a.node.core;
    assert.equal(core.offerRelayed(old), 'stale', 'an older State does not replace a newer one');
    assert.equal(a.readData('n1', 'k'), 'new');
    // A State of a node nobody met, signed by whoever made it up.
    const ghost = KeyPair.generate();
    const s = {
      nodeId: 'ghost',
      lastUpdate: Date.now() / 1000,
      sig: new Uint8Array(0) as Uint8Array,
      stateJson: '{"x": "y"}',
    };
    s.sig = ghost.sign(signedBytesState(s));
    assert.equal(core.offerRelayed(encodeState(s)), 'unknown');
    assert.equal(a.readData('ghost', 'x'), null);
    // A State of a known node signed by another key.
    const forged = {
      ...s,
      nodeId: 'n1',
      stateJson: '{"k": "forged"}',
      lastUpdate: s.lastUpdate + 100,
    };
    forged.sig = ghost.sign(signedBytesState(forged));
    assert.throws(() => core.offerRelayed(encodeState(forged)), { code: 'DSN_ERR_UNAUTHORIZED' });
    assert.equal(a.readData('n1', 'k'), 'new');
    await c.stopAll();
  });
});
