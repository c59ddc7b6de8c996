import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DSNodeServer } from '../../src/index.js';
import { DEFAULT_LIMITS } from '../../src/wire/limits.js';
import { decodeState } from '../../src/wire/packets.js';
import { FAST, TestNet } from '../helpers/net.js';
import { Forger, post } from '../helpers/raw.js';

/**
 * What an UPDATE is answered with: the own State when the sender may not
 * hold it yet, nothing once it does (a writer with N−1 peers must not decode
 * N−1 states it has), and the own State again when the sender repeats the
 * very State that was answered (the answer may have been lost).
 */
describe('UPDATE answers', () => {
  const net = new TestNet();
  let a: DSNodeServer;
  const x = new Forger('x', null);
  const t0 = Date.now() / 1000;

  before(async () => {
    // x never answers at its port: a long dead-after keeps it a member.
    a = await net.start('a', { aesKey: null, timing: { ...FAST, deadAfterMs: 60_000 } });
    const hello = await post(a.port, '/hello', x.hello(9));
    assert.equal(hello.status, 200);
  });
  after(() => net.stopAll());

  /** The State in the answer, or null for an empty answer (a 204 without a body). */
  async function update(entries: [string, string][], at: number): Promise<string | null> {
    const r = await post(a.port, '/update', x.state(entries, at));
    if (r.status === 204) {
      assert.equal(r.body.length, 0);
      return null;
    }
    assert.equal(r.status, 200);
    const s = decodeState(x.open(r.body).subarray(1), DEFAULT_LIMITS);
    return `${s.nodeId}@${s.lastUpdate}`;
  }

  it('the first UPDATE is answered with the own State', async () => {
    assert.match((await update([['k', '1']], t0)) ?? 'empty', /^a@/);
  });

  it('the same State again (its answer lost) is answered again', async () => {
    assert.match((await update([['k', '1']], t0)) ?? 'empty', /^a@/);
  });

  it('a newer State from a peer that has the own State gets an empty answer: 204, no body', async () => {
    assert.equal(await update([['k', '2']], t0 + 1), null);
    assert.equal(a.readData('x', 'k'), '2');
  });

  it('after the node writes, the next UPDATE gets its new State', async () => {
    await a.updateData('mine', 'new').catch(() => {}); // x's port does not answer
    const answer = await update([['k', '3']], t0 + 2);
    assert.match(answer ?? 'empty', /^a@/);
    assert.equal(a.readState('a')?.get('mine'), 'new');
  });
});
