import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DSNodeServer, type DsnError } from '../../src/index.js';
import { allSee, LOCAL, next, sorted, TestNet, until } from '../helpers/net.js';

describe('one node', () => {
  const net = new TestNet();
  after(() => net.stopAll());

  it('listens on a free port, lists itself, reads its own state', async () => {
    const a = await net.start('solo');
    assert.ok(a.port > 0);
    assert.equal(a.nodeId(), 'solo');
    assert.deepEqual(a.peers(), ['solo']);
    assert.equal(a.readData('solo', 'k'), null);
    await a.updateData('k', 'v');
    assert.equal(a.readData('solo', 'k'), 'v');
    assert.equal(a.node.readData('solo', 'k'), 'v');
    assert.deepEqual(a.node.peers(), ['solo']);
    await a.deleteData('k');
    assert.equal(a.readData('solo', 'k'), null);
    assert.equal(a.readData('nobody', 'k'), null);
  });

  it('refuses non-string keys and values, and DATA to an unknown node', async () => {
    const a = net.servers[0] as DSNodeServer;
    await assert.rejects(a.updateData(1 as unknown as string, 'v'), /key must be a string/);
    await assert.rejects(a.updateData('k', null as unknown as string), /value must be a string/);
    await assert.rejects(a.deleteData({} as unknown as string), /key must be a string/);
    assert.deepEqual(a.readState('solo'), new Map());
    await assert.rejects(
      a.sendToNode('ghost', 'x'),
      (e: DsnError) => e.code === 'DSN_ERR_UNKNOWN_NODE',
    );
  });

  it('stop is idempotent, and a stopped node refuses writes', async () => {
    const a = await net.start('stopper');
    assert.equal(a.isShutDown(), false);
    await Promise.all([a.stop(), a.stop()]);
    await a.stop();
    assert.equal(a.isShutDown(), true);
    await assert.rejects(a.updateData('k', 'v'), (e: DsnError) => e.code === 'DSN_ERR_STOPPED');
    await assert.rejects(a.sendToNode('x', 'y'), (e: DsnError) => e.code === 'DSN_ERR_STOPPED');
  });

  it('supports await using', async () => {
    let port = 0;
    {
      await using s = await net.start('disposable');
      port = s.port;
      assert.ok(!s.isShutDown());
    }
    await assert.rejects(fetch(`http://${LOCAL}:${port}/ping`, { method: 'POST', body: 'x' }));
  });
});

describe('two nodes', () => {
  const net = new TestNet();
  after(() => net.stopAll());
  const seen: string[] = [];

  it('join, and both list both', async () => {
    const a = await net.start('a', {}, { onUpdate: (id) => seen.push(`update:${id}`) });
    const peerEvent = next<[string]>(a, 'peer');
    const b = await net.start('b', { via: a });
    assert.deepEqual(sorted(a.peers()), ['a', 'b']);
    assert.deepEqual(sorted(b.peers()), ['a', 'b']);
    assert.deepEqual(await peerEvent, ['b']);
  });

  it('an update reaches the peer, with callback and event, before updateData resolves', async () => {
    const [a, b] = net.servers as [DSNodeServer, DSNodeServer];
    const ev = next<[string]>(a, 'update');
    await b.updateData('temperature', '21.5');
    assert.equal(a.readData('b', 'temperature'), '21.5');
    assert.deepEqual(await ev, ['b']);
    assert.ok(seen.includes('update:b'));
  });

  it('a delete reaches the peer', async () => {
    const [a, b] = net.servers as [DSNodeServer, DSNodeServer];
    await b.updateData('gone-soon', 'x');
    assert.equal(a.readData('b', 'gone-soon'), 'x');
    await b.deleteData('gone-soon');
    assert.equal(a.readData('b', 'gone-soon'), null);
    assert.equal(a.readData('b', 'temperature'), '21.5');
  });

  it('key order, odd key names and any Unicode survive the trip', async () => {
    const [a, b] = net.servers as [DSNodeServer, DSNodeServer];
    const entries: [string, string][] = [
      ['z', '1'],
      ['10', 'ten'],
      ['2', 'two'],
      ['__proto__', 'p'],
      ['constructor', 'c'],
      ['', ''],
      ['emoji 🚀', 'h\u00e9llo \u2713 \u4e2d\u6587 \ud83d\udc69\u200d\ud83d\udcbb'],
      ['ctrl', '\u0000\u001f\u007f"\\/\n'],
      ['lone', '\ud800'],
    ];
    for (const [k, v] of entries) await b.updateData(k, v);
    const got = [...(a.readState('b') ?? new Map())].filter(([k]) =>
      entries.some(([e]) => e === k),
    );
    assert.deepEqual(got, entries);
  });

  it('DATA both ways, with callback and event', async () => {
    const [a, b] = net.servers as [DSNodeServer, DSNodeServer];
    const received: string[] = [];
    b.setReceiveCb((id, data) => received.push(`${id}:${Buffer.from(data).toString()}`));
    const atB = next<[string, Uint8Array]>(b, 'receive');
    await a.sendToNode('b', 'hello b');
    const [from, data] = await atB;
    assert.equal(from, 'a');
    assert.equal(Buffer.from(data).toString(), 'hello b');
    assert.deepEqual(received, ['a:hello b']);
    const atA = next<[string, Uint8Array]>(a, 'receive');
    await b.sendToNode('a', new Uint8Array([0, 1, 2, 255]));
    assert.deepEqual([...(await atA)[1]], [0, 1, 2, 255]);
  });

  it('a stopped peer says goodbye: dropped at once, with the leave event and the disconnect callback', async () => {
    const [a, b] = net.servers as [DSNodeServer, DSNodeServer];
    const gone: string[] = [];
    a.setDisconnectCb((id) => gone.push(id));
    let failed = 0;
    a.on('disconnect', () => failed++);
    const ev = next<[string]>(a, 'leave');
    await b.stop();
    // (stop() resolves once its peers took the goodbye: no waiting here.)
    assert.deepEqual(await ev, ['b']);
    assert.deepEqual(gone, ['b'], 'the Python-style callback hears of every peer that goes');
    assert.equal(failed, 0, 'a goodbye is no failure');
    assert.deepEqual(a.peers(), ['a']);
    assert.equal(a.readData('b', 'temperature'), null);
  });
});

describe('ten nodes', () => {
  const net = new TestNet();
  after(() => net.stopAll());

  it('joining through one bootstrap, all see all', async () => {
    const boot = await net.start('n0');
    await Promise.all(Array.from({ length: 9 }, (_, i) => net.start(`n${i + 1}`, { via: boot })));
    const ids = net.servers.map((s) => s.nodeId());
    await until(net.servers, () => allSee(net.servers, ids), 'all ten list all ten');
  });

  it('updates and deletes from every node reach all', async () => {
    await Promise.all(net.servers.map((s) => s.updateData('role', `role-${s.nodeId()}`)));
    for (const s of net.servers)
      for (const o of net.servers)
        assert.equal(s.readData(o.nodeId(), 'role'), `role-${o.nodeId()}`);
    await Promise.all(net.servers.map((s) => s.deleteData('role')));
    for (const s of net.servers)
      for (const o of net.servers) assert.equal(s.readData(o.nodeId(), 'role'), null);
  });

  it('a burst of updates from one writer ends with its last value everywhere', async () => {
    const w = net.servers[3] as DSNodeServer;
    const writes: Promise<void>[] = [];
    for (let i = 0; i <= 200; i++) writes.push(w.updateData('counter', String(i)));
    await Promise.all(writes);
    for (const s of net.servers) assert.equal(s.readData(w.nodeId(), 'counter'), '200');
  });
});

describe('a chain of bootstraps', () => {
  const net = new TestNet();
  after(() => net.stopAll());

  it('each node joining through the previous one, all see all', async () => {
    let prev = await net.start('c0');
    for (let i = 1; i < 5; i++) prev = await net.start(`c${i}`, { via: prev });
    const ids = net.servers.map((s) => s.nodeId());
    await until(net.servers, () => allSee(net.servers, ids), 'the chain is a full mesh');
    await (net.servers[0] as DSNodeServer).updateData('x', 'from c0');
    for (const s of net.servers) assert.equal(s.readData('c0', 'x'), 'from c0');
  });

  it('a bootstrap list whose first entry is dead still joins through the next', async () => {
    const alerts: string[] = [];
    const dead = { address: LOCAL, port: 1 };
    const live = { address: LOCAL, port: (net.servers[0] as DSNodeServer).port };
    const s = await net.start(
      'late',
      { bootstrapNodes: [dead, live] },
      { onAlert: (m) => alerts.push(m) },
    );
    assert.ok(s.peers().includes('c0'));
    assert.deepEqual(alerts, []);
  });

  it('no bootstrap node answering raises an alert, and the node keeps running', async () => {
    const alerts: string[] = [];
    const s = await net.start(
      'lonely',
      { bootstrapNodes: [{ address: LOCAL, port: 1 }] },
      { onAlert: (m) => alerts.push(m) },
    );
    assert.match(alerts.join('\n'), /no bootstrap node answered/);
    assert.deepEqual(s.peers(), ['lonely']);
    await s.updateData('still', 'works');
    assert.equal(s.readData('lonely', 'still'), 'works');
  });
});

describe('start-up errors', () => {
  const net = new TestNet();
  after(() => net.stopAll());

  it('a port in use is refused with a clear error', async () => {
    const a = await net.start('holder');
    await assert.rejects(
      net.start('second', { port: a.port }),
      (e: DsnError) => e.code === 'DSN_ERR_CONFIG' && /port \d+ is already in use/.test(e.message),
    );
  });

  it('an invalid config is refused before anything starts', async () => {
    await assert.rejects(
      DSNodeServer.start({ nodeId: 'x', port: 1, aesKey: 'nope' }),
      /aesKey: must be 32 hex characters/,
    );
  });
});

describe('limits on the own state', () => {
  const net = new TestNet();
  after(() => net.stopAll());

  it('a state over the key limit or the body limit is refused and nothing changes', async () => {
    const a = await net.start('small', { limits: { maxKeys: 3, maxBodyBytes: 2048 } });
    await a.updateData('k1', 'v');
    await a.updateData('k2', 'v');
    await a.updateData('k3', 'v');
    await assert.rejects(a.updateData('k4', 'v'), (e: DsnError) => e.code === 'DSN_ERR_LIMIT');
    await assert.rejects(a.updateData('k1', 'x'.repeat(4000)), /exceed the body limit/);
    assert.deepEqual(
      [...(a.readState('small') ?? [])],
      [
        ['k1', 'v'],
        ['k2', 'v'],
        ['k3', 'v'],
      ],
    );
  });
});

describe('joining with an empty state', () => {
  const net = new TestNet();
  after(() => net.stopAll());

  it("a node whose own state is empty holds the others' states once start resolves", async () => {
    const a = await net.start('full');
    await a.updateData('role', 'bootstrap');
    const b = await net.start('writer', { via: a });
    await b.updateData('k', 'v');
    const empty = await net.start('empty', { via: a });
    assert.equal(empty.readData('full', 'role'), 'bootstrap');
    assert.equal(empty.readData('writer', 'k'), 'v');
  });
});
