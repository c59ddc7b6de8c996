import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DsnError, generateKey, JoinError } from '../../src/index.js';
import { FAST, LOCAL, next, TestNet, tempDir } from '../helpers/net.js';

/**
 * A join that fails says why, on both sides: the joiner's alert (and, with
 * requireJoin, the error start() rejects with) names each bootstrap and the
 * cause; the refusing node raises an alert naming who it refused and why,
 * at most once a minute per sender and cause, and never a key.
 */
describe('join refusals name their cause on both sides', () => {
  const net = new TestNet();
  after(() => net.stopAll());

  it('another network key: "the network keys differ" here, "does not decrypt" there', async () => {
    const a = await net.start('a');
    const there = next<[string]>(a, 'alert');
    const alerts: string[] = [];
    const w = await net.start(
      'w',
      { via: a, aesKey: generateKey() },
      { onAlert: (m) => alerts.push(m) },
    );
    assert.match(
      alerts.join(),
      /refused the join: 401 not authorized — nothing this node sends decrypts there: the network keys differ/,
    );
    assert.deepEqual(w.peers(), ['w']);
    const [text] = await there;
    assert.equal(
      text,
      'a request from 127.0.0.1 does not decrypt with the network key: a node with another key?',
    );
    assert.ok(!text.includes(net.key), 'never a key');
  });

  it('the refusing side says so once a minute, not at every retry', async () => {
    const a = await net.start('quiet');
    let refusals = 0;
    a.on('alert', (m) => {
      if (/does not decrypt/.test(m)) refusals++;
    });
    const key = generateKey();
    for (let i = 0; i < 3; i++) {
      await net.start(`w${i}`, { via: a, aesKey: key });
    }
    assert.equal(refusals, 1);
  });

  it('requireJoin: start rejects at once for a refusal that retrying cannot change', async () => {
    const a = await net.start('strict');
    await assert.rejects(
      net.start('x', { via: a, aesKey: generateKey(), requireJoin: true }),
      (err: unknown) => {
        assert.ok(err instanceof JoinError);
        assert.equal(err.code, 'DSN_ERR_WRONG_KEY');
        assert.match(
          err.message,
          new RegExp(`${LOCAL}:${a.port} refused the join: .*the network keys differ`),
        );
        return true;
      },
    );
    const picky = await net.start('picky', { whitelistNodeIds: ['friend'] });
    await assert.rejects(net.start('stranger', { via: picky, requireJoin: true }), {
      code: 'DSN_ERR_NOT_WHITELISTED',
    });
  });

  it('requireJoin: an unreachable bootstrap is tried until timing.joinTimeoutMs, then start rejects', async () => {
    const before = Date.now();
    await assert.rejects(
      net.start('lonely', {
        bootstrapNodes: [{ address: LOCAL, port: 1 }],
        requireJoin: true,
        timing: { ...FAST, joinTimeoutMs: 1500 },
      }),
      (err: unknown) => {
        assert.ok(err instanceof DsnError);
        assert.equal(err.code, 'DSN_ERR_JOIN');
        assert.match(err.message, /127\.0\.0\.1:1 unreachable: connection refused/);
        return true;
      },
    );
    assert.ok(Date.now() - before >= 1500, 'it kept trying for the join timeout');
  });

  it('a node ID bound to another key: the joiner is told where the fix is, the refusing node names the file', async () => {
    const a = await net.start('home');
    const dir = tempDir();
    await net.start('twin', { via: a, credentialDir: dir.path });
    const there = next<[string]>(a, 'alert', (m) => /refused twin/.test(m));
    const fresh = tempDir(); // a recreated container: a new key for the same ID
    await assert.rejects(
      net.start('twin', { via: a, credentialDir: fresh.path, requireJoin: true }),
      (err: unknown) => {
        assert.ok(err instanceof JoinError);
        assert.equal(err.code, 'DSN_ERR_KEY_MISMATCH');
        assert.match(
          err.message,
          /node ID twin is known there with another key \(trust on first use\); if this node's credentials were recreated, put its old key back in .*twin\.key, or delete twin\.pub in that node's credential folder/,
        );
        return true;
      },
    );
    const [text] = await there;
    assert.match(
      text,
      new RegExp(
        `its key differs from the one stored for it in ${net.credentialDir}/home/twin\\.pub`,
      ),
    );
    dir.cleanup();
    fresh.cleanup();
  });
});
