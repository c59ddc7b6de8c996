import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { DSNodeServer } from '../../src/index.js';
import { next, until } from '../helpers/net.js';
import { Forger } from '../helpers/raw.js';
import { rawPost, type Tap, useTappedPair } from './wire.js';

/**
 * Only an authenticated message is a sign of life (README: "any good answer
 * or authenticated request"). When an UPDATE whose State was older than the
 * one held was dropped before its signature was checked, yet still counted
 * as a sign of life, an eavesdropper replaying one captured UPDATE of a dead
 * node — no key needed — kept it listed for ever, and anyone with the key
 * could do the same with a State of timestamp 0 and a signature of zeros,
 * answered 200 instead of the uniform 401. (Found by this test; NodeCore.offer
 * now verifies all but a byte-identical copy, and a stale State is no sign of
 * life.)
 */
describe('a dead node cannot be kept alive by old or forged states', () => {
  const pair = useTappedPair();
  const { net } = pair;
  let a: DSNodeServer;
  let b: DSNodeServer;
  let tap: Tap;

  before(async () => {
    ({ a, b, tap } = pair);
    for (const v of ['1', '2', '3']) await b.updateData('k', v);
    await until([a], () => a.readData('b', 'k') === '3', 'a holds b = 3');
  });

  it('a forged State with an old timestamp gets the uniform 401', async () => {
    const f = new Forger('b', net.key);
    const r = await rawPost(a.port, '/update', f.state([['k', 'forged']], 1));
    assert.deepEqual([r.status, r.body.toString()], [401, 'not authorized']);
  });

  it('replaying a captured old UPDATE of a dead node does not stop it being dropped', async () => {
    const [old] = tap.bodies('/update');
    assert.ok(old, 'the tap saw b send a state');
    const dropped = next<[string]>(a, 'disconnect', (id) => id === 'b', 15_000);
    // b dies: its sockets close, and no goodbye comes (kill -9, a crash).
    await b.node.transport.close();
    let replays = 0;
    let done = false;
    const replay = (async () => {
      while (!done) {
        await rawPost(a.port, '/update', old).catch(() => {});
        replays++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await dropped;
    } finally {
      done = true;
      await replay;
    }
    assert.ok(replays > 0);
    assert.ok(!a.peers().includes('b'));
  });
});
