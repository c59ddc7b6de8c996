import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Clock } from '../../src/clock.js';
import { generateKey } from '../../src/index.js';
import { LOCAL, next, TestNet, tempDir } from '../helpers/net.js';

/** The real clock, an hour behind: a machine whose clock was set back. */
const hourBehind: Clock = {
  now: () => Date.now() - 3_600_000,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

describe('restarts', () => {
  const net = new TestNet();
  after(() => net.stopAll());

  it('a node restarted with the same ID and credentials rejoins and its new values win', async () => {
    const a = await net.start('a');
    let b = await net.start('b', { via: a });
    await b.updateData('k', 'before');
    assert.equal(a.readData('b', 'k'), 'before');
    const gone = next(a, 'leave'); // a clean stop says goodbye
    await b.stop();
    await gone;
    b = await net.start('b', { via: a });
    assert.ok(a.peers().includes('b'));
    await b.updateData('k', 'after');
    assert.equal(a.readData('b', 'k'), 'after');
  });

  it('a quick restart on a new port (before it was declared gone) is found at the new address', async () => {
    const [a] = net.servers;
    const old = net.servers.find((s) => s.nodeId() === 'b' && !s.isShutDown());
    assert.ok(a && old);
    await old.stop();
    const b = await net.start('b', { via: a });
    await b.updateData('k', 'moved');
    assert.equal(a.readData('b', 'k'), 'moved');
    const view = a.snapshot().find((n) => n.nodeId === 'b');
    assert.equal(view?.port, b.port);
  });

  it('a restart with the clock set back still wins (last_update never goes back)', async () => {
    const [a] = net.servers;
    const old = net.servers.find((s) => s.nodeId() === 'b' && !s.isShutDown());
    assert.ok(a && old);
    await old.updateData('k', 'real time');
    const before = a.snapshot().find((n) => n.nodeId === 'b')?.lastUpdate ?? 0;
    await old.stop();
    const b = await net.start('b', { via: a, clock: hourBehind });
    await b.updateData('k', 'clock went back');
    assert.equal(a.readData('b', 'k'), 'clock went back');
    const after = a.snapshot().find((n) => n.nodeId === 'b')?.lastUpdate ?? 0;
    assert.ok(after > before, `${after} > ${before}`);
  });

  it('the same ID with a new key is refused (trust on first use)', async () => {
    const [a] = net.servers;
    assert.ok(a);
    const other = tempDir();
    const alerts: string[] = [];
    const impostor = await net.start(
      'b',
      { via: a, credentialDir: other.path },
      { onAlert: (m) => alerts.push(m) },
    );
    assert.match(
      alerts.join(),
      /refused the join: node ID b is known there with another key \(trust on first use\)/,
    );
    assert.deepEqual(impostor.peers(), ['b']);
    assert.notEqual(a.snapshot().find((n) => n.nodeId === 'b')?.port, impostor.port);
    other.cleanup();
  });
});

describe('who may join', () => {
  const net = new TestNet();
  after(() => net.stopAll());

  it('a node not on the whitelist is refused, a listed one joins', async () => {
    const a = await net.start('a', { whitelistNodeIds: ['friend'] });
    const alerts: string[] = [];
    const c = await net.start('stranger', { via: a }, { onAlert: (m) => alerts.push(m) });
    assert.match(alerts.join(), /refused the join: stranger is not on its whitelist/);
    assert.deepEqual(a.peers(), ['a']);
    assert.deepEqual(c.peers(), ['stranger']);
    const f = await net.start('friend', { via: a });
    assert.deepEqual(a.peers().sort(), ['a', 'friend']);
    assert.deepEqual(f.peers().sort(), ['a', 'friend']);
  });

  it('a whitelist also keeps unlisted nodes out of the peer lists it learns', async () => {
    const friend = net.servers.find((s) => s.nodeId() === 'friend');
    assert.ok(friend);
    // 'open' accepts anyone and is joined by 'x'; 'picky' accepts neither 'x' nor others.
    const open = await net.start('open', { via: friend });
    assert.ok(open.peers().includes('friend'));
    const x = await net.start('x', { via: open });
    assert.ok(x.peers().includes('open'));
    const picky = await net.start('picky', {
      via: open,
      whitelistNodeIds: ['open', 'a', 'friend'],
    });
    assert.ok(!picky.peers().includes('x'));
    assert.ok(picky.peers().includes('open'));
  });

  it('a node with the wrong network key cannot join', async () => {
    const a = net.servers.find((s) => s.nodeId() === 'open');
    assert.ok(a);
    const alerts: string[] = [];
    const w = await net.start(
      'wrong-key',
      { via: a, aesKey: generateKey() },
      { onAlert: (m) => alerts.push(m) },
    );
    assert.match(
      alerts.join(),
      /refused the join: 401 not authorized — nothing this node sends decrypts there: the network keys differ/,
    );
    assert.deepEqual(w.peers(), ['wrong-key']);
    assert.ok(!a.peers().includes('wrong-key'));
  });

  it('a node learns its own address from the first Hello answer', async () => {
    const a = net.servers.find((s) => s.nodeId() === 'open');
    assert.ok(a);
    const n = await net.start('learner', { via: a });
    assert.equal(n.snapshot()[0]?.address, LOCAL);
    const fixed = await net.start('fixed', { via: a, networkIp: '127.0.0.2' });
    assert.equal(fixed.snapshot()[0]?.address, '127.0.0.2');
  });
});
