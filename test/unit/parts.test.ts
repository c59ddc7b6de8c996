import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FakeClock } from '../../src/clock.js';
import { fileNameOf, nodeIdOfFileName, openCredentialStore } from '../../src/crypto/credentials.js';
import { CoalescingSender } from '../../src/node/sender.js';
import { LEASE_SECONDS, Timestamps } from '../../src/node/timestamps.js';
import { tempDir } from '../helpers/net.js';

describe('CoalescingSender', () => {
  it('sends the newest state next and skips the ones in between', async () => {
    const sent: number[] = [];
    let release: () => void = () => {};
    const s = new CoalescingSender(async (x) => {
      sent.push(x);
      await new Promise<void>((r) => {
        release = r;
      });
    });
    s.push(1);
    const w1 = s.waitFor(1);
    for (let i = 2; i <= 10; i++) s.push(i);
    const w10 = s.waitFor(10);
    release();
    await w1;
    await new Promise((r) => setImmediate(r));
    release();
    await w10;
    assert.deepEqual(sent, [1, 10]);
    assert.ok(s.idle);
  });

  it('a failed send still releases its waiters; close releases all', async () => {
    const s = new CoalescingSender(async () => {
      throw new Error('peer down');
    });
    s.push(1);
    await s.waitFor(1);
    const blocked = new CoalescingSender(() => new Promise(() => {}));
    blocked.push(1);
    const w = blocked.waitFor(1);
    blocked.close();
    await w;
    blocked.push(2);
    await blocked.waitFor(2);
  });
});

describe('Timestamps', () => {
  it('strictly increase even when the clock stands still or goes back', async () => {
    const clock = new FakeClock(1_000_000);
    const t = new Timestamps(
      clock,
      0,
      async () => {},
      (e) => assert.fail(String(e)),
    );
    await t.reserve();
    const a = t.next();
    const b = t.next();
    clock.set(500_000);
    const c = t.next();
    assert.ok(a < b && b < c, `${a} < ${b} < ${c}`);
  });

  it('persist a ceiling ahead of use, so a restart starts above everything used', async () => {
    const clock = new FakeClock(2_000_000_000);
    const saved: number[] = [];
    const t = new Timestamps(
      clock,
      0,
      async (c) => void saved.push(c),
      (e) => assert.fail(String(e)),
    );
    await t.reserve();
    let last = 0;
    for (let i = 0; i < 100; i++) last = t.next();
    await t.flushed();
    assert.equal(saved.length, 1, 'one write for many updates');
    assert.equal(saved[0], 2_000_000 + LEASE_SECONDS);
    clock.set(clock.now() + 6_000); // past the middle of the lease: the next one is written ahead
    last = t.next();
    await t.flushed();
    assert.equal(saved.length, 2);
    assert.ok((saved[1] as number) > last + LEASE_SECONDS / 2);
    clock.set(1_000_000_000); // restarted with the clock set back
    const again = new Timestamps(
      clock,
      saved[0] as number,
      async () => {},
      (e) => assert.fail(String(e)),
    );
    await again.reserve();
    assert.ok(again.next() > last);
  });
});

describe('credential store', () => {
  it('uses the Python layout and reloads the same identity and peer keys', async () => {
    const dir = tempDir();
    const s1 = await openCredentialStore(dir.path, 'node-1');
    const other = await openCredentialStore(null, 'x');
    await s1.remember('peer-2', other.keyPair.publicKey);
    await s1.saveClockCeiling(123.5);
    const files = (await readdir(join(dir.path, 'node-1'))).sort();
    assert.deepEqual(files, ['node-1.clock', 'node-1.key', 'node-1.pub', 'peer-2.pub']);
    assert.equal((await readFile(join(dir.path, 'node-1', 'node-1.key'))).length, 32);
    assert.equal((await readFile(join(dir.path, 'node-1', 'node-1.pub'))).length, 64);
    const s2 = await openCredentialStore(dir.path, 'node-1');
    assert.equal(s2.keyPair.publicKey.hex(), s1.keyPair.publicKey.hex());
    assert.equal(s2.known.get('peer-2')?.hex(), other.keyPair.publicKey.hex());
    assert.equal(s2.clockCeiling, 123.5);
    dir.cleanup();
  });

  it('never lets a node ID leave its folder', () => {
    for (const id of ['../../etc/passwd', '.hidden', '..', 'a/b', 'ünïcode', 'x\u0000y']) {
      const name = fileNameOf(id);
      assert.match(name, /^[A-Za-z0-9_~-][A-Za-z0-9._-]*$/, id);
      assert.equal(nodeIdOfFileName(name), id);
    }
    assert.equal(fileNameOf('plain-id_1.2'), 'plain-id_1.2');
  });

  it('refuses a damaged key file with a clear error', async () => {
    const dir = tempDir();
    await openCredentialStore(dir.path, 'n');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir.path, 'n', 'n.key'), 'short');
    await assert.rejects(
      openCredentialStore(dir.path, 'n'),
      /does not hold a 32-byte secp256k1 key/,
    );
    dir.cleanup();
  });
});
