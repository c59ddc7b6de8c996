import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { DSNodeServer } from '../../src/index.js';
import { next, TestNet, until } from '../helpers/net.js';
import { PyPeer, pythonUnavailable, repeated } from '../helpers/pypeer.js';

/**
 * DATA between a TypeScript node and the Python peer at the sizes Language
 * Pipes sends (PROTOCOL.md §9): a decode step's ~9 KiB, a prefill chunk's
 * ~300 KiB, a model file's 32 MiB chunk — byte for byte, both ways, AES on.
 */
const unavailable = pythonUnavailable();
if (unavailable && process.env.CI) throw new Error(unavailable);

const SIZES = [9 * 1024, 300 * 1024, 32 * 1024 * 1024];
const T = { timeout: 180_000 };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('DATA with a Python node', { skip: unavailable ?? false }, () => {
  const net = new TestNet();
  let ts: DSNodeServer;
  let py: PyPeer;
  before(async () => {
    py = new PyPeer({ id: 'py', key: net.key });
    await py.ready;
    ts = await net.start('ts', { bootstrapNodes: [{ address: '127.0.0.1', port: py.port }] });
    await until([ts], () => ts.peers().includes('py'), 'ts knows py');
  });
  after(async () => {
    await py?.kill();
    await net.stopAll();
  });

  it('TypeScript → Python: 9 KiB, 300 KiB, 32 MiB arrive byte for byte', T, async () => {
    for (const n of SIZES) {
      const data = repeated(Buffer.from(`ts→py ${n} `), n);
      const got = next<[string, Buffer | null, { size: number; sha256: string }]>(py, 'receive');
      await ts.sendToNode('py', data);
      const [from, bytes, info] = await got;
      assert.equal(from, 'ts');
      assert.equal(info.size, n);
      assert.equal(info.sha256, sha(data));
      if (bytes) assert.ok(bytes.equals(data));
    }
  });

  it('Python → TypeScript: 9 KiB, 300 KiB, 32 MiB arrive byte for byte', T, async () => {
    for (const n of SIZES) {
      const unit = Buffer.from(`py→ts ${n} `);
      const got = next<[string, Uint8Array]>(ts, 'receive');
      await py.sendRepeated('ts', unit, n);
      const [from, data] = await got;
      assert.equal(from, 'py');
      assert.equal(data.length, n);
      assert.ok(Buffer.from(data).equals(repeated(unit, n)));
    }
  });

  it('a refusal reaches the Python sender as an error, not OK', T, async () => {
    const refuse = () => {
      throw new Error('job queue full');
    };
    ts.on('receive', refuse);
    try {
      await assert.rejects(py.sendRepeated('ts', Buffer.from('x'), 9 * 1024), /503/);
    } finally {
      ts.off('receive', refuse);
    }
  });
});
