import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DSNodeServer, FakeClock, MemoryNetwork } from '../../src/index.js';
import { bodyBytes } from '../../src/wire/body.js';
import { allSee } from '../helpers/net.js';

/**
 * Many nodes in one process on the in-memory transport, driven by a fake
 * clock: membership, failure detection, partitions and reconnects, in
 * simulated time (seconds of protocol time run in milliseconds).
 */
async function cluster(n: number, clock = new FakeClock(Date.now())) {
  const network = new MemoryNetwork();
  const key = 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf';
  const nodes: DSNodeServer[] = [];
  const addr = (i: number) => `127.0.1.${i + 1}`;
  const start = async (i: number) => {
    const boot = nodes[0];
    const s = await DSNodeServer.start({
      nodeId: `n${i}`,
      port: 7000,
      aesKey: key,
      credentialDir: null,
      clock,
      transport: network.transport(addr(i)),
      bootstrapNodes: boot && i !== 0 ? [{ address: addr(0), port: 7000 }] : [],
    });
    nodes[i] = s;
    return s;
  };
  for (let i = 0; i < n; i++) await start(i);
  return { network, clock, nodes, addr, start, ids: () => nodes.map((s) => s.nodeId()) };
}

describe('simulation on the in-memory transport', () => {
  it('thirty nodes join through one and all see all', async () => {
    const c = await cluster(30);
    await c.clock.advance(10_000);
    assert.ok(allSee(c.nodes, c.ids()));
    await Promise.all(c.nodes.map((s) => s.stop()));
  });

  it('a host that goes silent is dropped by all within about 9 s, with disconnect events', async () => {
    const c = await cluster(8);
    const gone: string[] = [];
    const victim = c.nodes[5] as DSNodeServer;
    const live = c.nodes.filter((s) => s !== victim);
    for (const s of live) s.on('disconnect', (id) => gone.push(`${s.nodeId()}:${id}`));
    // No goodbye and no refusal: its host is cut off, as when it loses power.
    c.network.partition(
      [c.addr(5)],
      live.map((s) => c.addr(c.nodes.indexOf(s))),
    );
    await c.clock.advance(7_000);
    assert.equal(gone.length, 0, 'not before the dead-after time');
    await c.clock.advance(3_000);
    assert.deepEqual(gone.sort(), live.map((s) => `${s.nodeId()}:n5`).sort());
    assert.ok(
      allSee(
        live,
        live.map((s) => s.nodeId()),
      ),
    );
    await Promise.all(c.nodes.map((s) => s.stop()));
  });

  it('a killed node (its port refuses) is dropped by all after two refused probes, well before the silence rule', async () => {
    const c = await cluster(8);
    const gone: string[] = [];
    const victim = c.nodes[5] as DSNodeServer;
    const live = c.nodes.filter((s) => s !== victim);
    for (const s of live) s.on('disconnect', (id) => gone.push(`${s.nodeId()}:${id}`));
    await victim.node.transport.close(); // no goodbye, like kill -9: connections are refused
    // Its closed connections make each peer probe it at the next tick; two
    // refusals a probe period apart drop it (8 s of silence would be needed otherwise).
    await c.clock.advance(4_000);
    assert.deepEqual(gone.sort(), live.map((s) => `${s.nodeId()}:n5`).sort());
    await Promise.all(live.map((s) => s.stop()));
  });

  it('a short outage (below the dead-after time) evicts nobody', async () => {
    const c = await cluster(6);
    const gone: string[] = [];
    for (const s of c.nodes) s.on('disconnect', (id) => gone.push(id));
    const a = [c.addr(0), c.addr(1), c.addr(2)];
    const b = [c.addr(3), c.addr(4), c.addr(5)];
    c.network.partition(a, b);
    await c.clock.advance(5_000);
    c.network.heal();
    await c.clock.advance(20_000);
    assert.deepEqual(gone, []);
    assert.ok(allSee(c.nodes, c.ids()));
    await Promise.all(c.nodes.map((s) => s.stop()));
  });

  it('a 3|3 partition longer than eviction heals by itself: everyone finds everyone again', async () => {
    const c = await cluster(6);
    const a = [c.addr(0), c.addr(1), c.addr(2)];
    const b = [c.addr(3), c.addr(4), c.addr(5)];
    c.network.partition(a, b);
    await c.clock.advance(15_000);
    for (const s of c.nodes.slice(0, 3))
      assert.equal(s.peers().length, 3, 'each side forgot the other');
    await Promise.all(c.nodes.map((s, i) => s.updateData('written', `during partition by ${i}`)));
    c.network.heal();
    await c.clock.advance(10_000);
    assert.ok(allSee(c.nodes, c.ids()));
    for (const s of c.nodes) {
      for (const [i, o] of c.nodes.entries())
        assert.equal(s.readData(o.nodeId(), 'written'), `during partition by ${i}`);
    }
    await Promise.all(c.nodes.map((s) => s.stop()));
  });

  it('a quiet network of 60 sends O(N) pings a second, not O(N²), and keeps everyone', async () => {
    const c = await cluster(60);
    await c.clock.advance(30_000);
    assert.ok(allSee(c.nodes, c.ids()));
    const gone: string[] = [];
    for (const s of c.nodes) s.on('disconnect', (id) => gone.push(id));
    const sent = () => c.nodes.reduce((n, s) => n + s.node.transport.stats.requestsSent, 0);
    const before = sent();
    await c.clock.advance(120_000);
    const perSecond = (sent() - before) / 120;
    // One ping per pair every 4–6 s would be 1770 pairs / 5 s ≈ 350 a second.
    // The budget: about probesPerSecond (1) pings per node, plus gossip
    // (PEERS every 3 s: 20 a second; no UPDATE to peers holding the state).
    assert.ok(perSecond < 60 + 20 + 30, `${perSecond} requests a second`);
    assert.ok(perSecond > 40, `${perSecond} requests a second: nobody pings any more?`);
    assert.deepEqual(gone, []);
    await Promise.all(c.nodes.map((s) => s.stop()));
  });

  it('quiet gossip sends a summary only: no UPDATE, DIGEST or PEERS while all hold the same', async () => {
    const c = await cluster(8);
    await c.clock.advance(30_000);
    const paths = new Map<string, number>();
    for (const s of c.nodes) {
      const t = s.node.transport;
      const request = t.request.bind(t);
      t.request = (address, port, path, body, options) => {
        paths.set(path, (paths.get(path) ?? 0) + 1);
        return request(address, port, path, body, options);
      };
    }
    await c.clock.advance(60_000);
    for (const path of ['/update', '/digest', '/peers']) {
      assert.equal(paths.get(path) ?? 0, 0, `${path} in a quiet network`);
    }
    // Every node gossips every 3 s: 8 nodes × 20 rounds.
    assert.ok((paths.get('/summary') ?? 0) >= 8 * 15, `${paths.get('/summary')} SUMMARY`);
    // An update still goes out, to everyone.
    await (c.nodes[3] as DSNodeServer).updateData('k', 'v');
    assert.equal(paths.get('/update'), 7);
    await Promise.all(c.nodes.map((s) => s.stop()));
  });

  it('an update fanned out to every peer is encrypted once: the same body to each', async () => {
    const c = await cluster(4);
    await c.clock.advance(10_000);
    const writer = c.nodes[0] as DSNodeServer;
    const bodies: Buffer[] = [];
    const t = writer.node.transport;
    const request = t.request.bind(t);
    t.request = (address, port, path, body, options) => {
      if (path === '/update') bodies.push(Buffer.from(bodyBytes(body)));
      return request(address, port, path, body, options);
    };
    await writer.updateData('k', 'one');
    await writer.updateData('k', 'two');
    assert.equal(bodies.length, 6);
    const [first, second] = [bodies.slice(0, 3), bodies.slice(3)] as [Buffer[], Buffer[]];
    for (const b of first) assert.ok(b.equals(first[0] as Buffer), 'one body for all peers');
    for (const b of second) assert.ok(b.equals(second[0] as Buffer), 'one body for all peers');
    assert.ok(!(first[0] as Buffer).equals(second[0] as Buffer));
    for (const s of c.nodes.slice(1)) assert.equal(s.readData('n0', 'k'), 'two');
    await Promise.all(c.nodes.map((s) => s.stop()));
  });

  it('a burst of updates signs only the States that go out; every peer ends with the last', async () => {
    const c = await cluster(3);
    await c.clock.advance(10_000);
    const writer = c.nodes[0] as DSNodeServer;
    const kp = writer.node.core.creds.keyPair;
    const sign = kp.sign.bind(kp);
    let signed = 0;
    kp.sign = (msg) => {
      signed++;
      return sign(msg);
    };
    // Not awaited one by one: the first goes out at once, the other 99
    // replace each other while it is in flight, and only the newest follows.
    await Promise.all(Array.from({ length: 100 }, (_, i) => writer.updateData('k', `v${i}`)));
    assert.equal(signed, 2);
    for (const s of c.nodes.slice(1)) {
      assert.equal(s.readData('n0', 'k'), 'v99');
      assert.equal(s.readState('n0')?.size, 1);
    }
    await Promise.all(c.nodes.map((s) => s.stop()));
  });

  it('a peer that dropped this node without a word (as a Python node evicts) gets it back through gossip', async () => {
    const c = await cluster(2);
    const [a, b] = c.nodes as [DSNodeServer, DSNodeServer];
    await a.updateData('k', 'v');
    await c.clock.advance(10_000);
    assert.equal(b.readData('n0', 'k'), 'v');
    // b forgets a — address book and state — and tells nobody. a still
    // believes b holds its newest state, so its gossip carries no UPDATE:
    // b's 401 to PEERS is what tells a to say Hello and send it again.
    const n0 = b.node.core.peers.get('n0');
    assert.ok(n0);
    b.node.core.peers.forget(n0);
    assert.equal(b.readData('n0', 'k'), null);
    await c.clock.advance(10_000);
    assert.equal(b.readData('n0', 'k'), 'v');
    assert.ok(b.peers().includes('n0'));
    await Promise.all(c.nodes.map((s) => s.stop()));
  });

  it('in a network of 60 a killed node is still dropped within 10 s: its closed connections give it away', async () => {
    const c = await cluster(60);
    await c.clock.advance(30_000);
    const victim = c.nodes[17] as DSNodeServer;
    const live = c.nodes.filter((s) => s !== victim);
    const gone = new Set<string>();
    for (const s of live) s.on('disconnect', (id) => id === 'n17' && gone.add(s.nodeId()));
    await victim.node.transport.close(); // its sockets close, as when a process is killed
    // Its peers ping it at once; those that had not heard from it for 8 s
    // drop it after two refused pings, the others once 8 s have passed.
    await c.clock.advance(10_000);
    assert.equal(gone.size, live.length);
    await Promise.all(c.nodes.map((s) => s.stop()));
  });

  it('in a network of 60 an unreachable node (no connection closes) is dropped after its stretched interval', async () => {
    const c = await cluster(60);
    await c.clock.advance(30_000);
    const victim = c.addr(23);
    const live = c.nodes.filter((s) => s.nodeId() !== 'n23');
    const gone = new Set<string>();
    for (const s of live) s.on('disconnect', (id) => id === 'n23' && gone.add(s.nodeId()));
    c.network.partition(
      [victim],
      live.map((_, i) => c.addr(i >= 23 ? i + 1 : i)),
    );
    await c.clock.advance(10_000);
    assert.ok(gone.size < live.length, 'the interval is longer than 4–6 s at this size');
    // Interval ≈ 59 peers / 2 pings a second ≈ 30 s, plus the offsets, plus
    // 8 s of silence and two failed pings.
    await c.clock.advance(60_000);
    assert.equal(gone.size, live.length);
    await Promise.all(c.nodes.map((s) => s.stop()));
  });

  it("of two idle nodes only one pings: a PING on a peer's connection counts as its sign of life", async () => {
    const network = new MemoryNetwork();
    const clock = new FakeClock(Date.now());
    // Gossip off (a huge tick), so that only pings travel.
    const base = { aesKey: null, credentialDir: null, clock, port: 7000, timing: { tickMs: 1e9 } };
    const a = await DSNodeServer.start({
      ...base,
      nodeId: 'a',
      transport: network.transport('127.0.1.1'),
    });
    const b = await DSNodeServer.start({
      ...base,
      nodeId: 'b',
      transport: network.transport('127.0.1.2'),
      bootstrapNodes: [{ address: '127.0.1.1', port: 7000 }],
    });
    const sent = () => a.node.transport.stats.requestsSent + b.node.transport.stats.requestsSent;
    const before = sent();
    await clock.advance(60_000);
    const pings = sent() - before;
    // Each side alone pings every 4–6 s (10–15 in a minute); both would be 20–30.
    assert.ok(pings >= 10 && pings <= 16, `${pings} pings in 60 s`);
    assert.ok(allSee([a, b], ['a', 'b']));
    await Promise.all([a.stop(), b.stop()]);
  });

  it('a node that could not reach any bootstrap node joins once one appears', async () => {
    const network = new MemoryNetwork();
    const clock = new FakeClock(Date.now());
    const base = { aesKey: null, credentialDir: null, clock, port: 7000 };
    const alerts: string[] = [];
    // Its join retries on the fake clock, so time must move while it starts.
    const starting = DSNodeServer.start(
      {
        ...base,
        nodeId: 'early',
        transport: network.transport('127.0.1.2'),
        bootstrapNodes: [{ address: '127.0.1.1', port: 7000 }],
      },
      { onAlert: (m) => alerts.push(m) },
    );
    await clock.advance(2_000);
    const early = await starting;
    assert.equal(alerts.length, 1);
    const boot = await DSNodeServer.start({
      ...base,
      nodeId: 'boot',
      transport: network.transport('127.0.1.1'),
    });
    await clock.advance(5_000);
    assert.ok(allSee([early, boot], ['early', 'boot']));
    await Promise.all([early.stop(), boot.stop()]);
  });
});
