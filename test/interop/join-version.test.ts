import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { JoinError } from '../../src/index.js';
import { LOCAL, next, TestNet } from '../helpers/net.js';
import { PyPeer, pythonUnavailable } from '../helpers/pypeer.js';

/**
 * A protocol version mismatch is named on both sides: the Python peer speaks
 * another version (its --version), the TypeScript joiner's JoinError says
 * so, and a TypeScript node refusing the Python peer's Hello alerts with who
 * and why.
 */
const unavailable = pythonUnavailable();
if (unavailable && process.env.CI) throw new Error(unavailable);

describe('another protocol version, named on both sides', { skip: unavailable ?? false }, () => {
  const net = new TestNet();
  const pys: PyPeer[] = [];
  after(async () => {
    await Promise.all(pys.map((p) => p.kill()));
    await net.stopAll();
  });

  it('the joiner says the bootstrap speaks another version; the refusing node says who', async () => {
    const old = new PyPeer({ id: 'py-old', key: net.key, version: '0.8.0' });
    pys.push(old);
    await old.ready;
    await assert.rejects(
      net.start('ts-new', {
        bootstrapNodes: [{ address: LOCAL, port: old.port }],
        requireJoin: true,
      }),
      (err: unknown) => {
        assert.ok(err instanceof JoinError);
        assert.equal(err.code, 'DSN_ERR_VERSION');
        assert.match(err.message, new RegExp(`${LOCAL}:${old.port} refused the join: `));
        return true;
      },
    );
    const ts = await net.start('ts-host');
    const alert = next<[string]>(ts, 'alert', (m) => /py-old2/.test(m));
    const old2 = new PyPeer({
      id: 'py-old2',
      key: net.key,
      version: '0.8.0',
      bootstrap: [ts.port],
    });
    pys.push(old2);
    await old2.ready;
    const [text] = await alert;
    assert.equal(text, 'refused py-old2 from 127.0.0.1: it speaks another protocol version');
    assert.deepEqual(ts.peers(), ['ts-host']);
  });
});
