import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DSNodeServer } from '../../src/index.js';
import { MsgType } from '../../src/wire/frame.js';
import { DEFAULT_LIMITS } from '../../src/wire/limits.js';
import { decodeState } from '../../src/wire/packets.js';
import { LOCAL, next, TestNet } from '../helpers/net.js';
import { Forger, post } from '../helpers/raw.js';

/** Every failure before authentication looks the same with a network key. */
const UNIFORM = { status: 401, body: 'not authorized' };

async function expectUniform(port: number, path: string, body: Uint8Array | string) {
  const r = await post(port, path, body);
  assert.deepEqual({ status: r.status, body: r.body.toString() }, UNIFORM, `${path}`);
}

describe('attacks and bad input, encrypted network', () => {
  const net = new TestNet();
  let a: DSNodeServer;
  let b: DSNodeServer;
  const changes: string[] = [];
  const received: string[] = [];

  before(async () => {
    a = await net.start(
      'a',
      {},
      { onUpdate: (id) => changes.push(id), onReceive: (id) => received.push(id) },
    );
    b = await net.start('b', { via: a });
    await b.updateData('k', 'genuine');
  });
  after(() => net.stopAll());

  /** What must hold after every refused request: nothing changed. */
  function unchanged() {
    assert.deepEqual([...a.peers()].sort(), ['a', 'b']);
    assert.equal(a.readData('b', 'k'), 'genuine');
    assert.deepEqual(received, []);
  }

  it('a Hello with another protocol version gets 505', async () => {
    const f = new Forger('newcomer', net.key);
    const r = await post(a.port, '/hello', f.hello(9, { version: '0.8.0' }));
    assert.equal(r.status, 505);
    assert.ok(!a.peers().includes('newcomer'));
  });

  it('a Hello with a known ID and a new key gets 401 saying why (it verified: no oracle), and an alert', async () => {
    const f = new Forger('b', net.key);
    const alert = next<[string]>(a, 'alert');
    const r = await post(a.port, '/hello', f.hello(b.port));
    assert.deepEqual(
      { status: r.status, body: r.body.toString() },
      {
        status: 401,
        body: 'node ID b is already known here with another key (trust on first use)',
      },
    );
    const [text] = await alert;
    assert.match(
      text,
      /^refused b from 127\.0\.0\.1: its key differs from the one stored for it in .*b\.pub \(trust on first use\); if b was reinstalled, delete that file$/,
    );
    unchanged();
  });

  it('a Hello with a bad signature gets 401', async () => {
    const f = new Forger('forger', net.key);
    await expectUniform(a.port, '/hello', f.hello(9, { sig: new Uint8Array(64).fill(7) }));
    assert.ok(!a.peers().includes('forger'));
  });

  it('an UPDATE from a node never seen gets 401 (the reference stores it unverified)', async () => {
    const f = new Forger('stranger', net.key);
    await expectUniform(a.port, '/update', f.state([['evil', '1']]));
    assert.ok(!a.peers().includes('stranger'));
    unchanged();
  });

  it('a state for a known node signed by the wrong key gets 401 and changes nothing', async () => {
    const f = new Forger('b', net.key);
    await expectUniform(a.port, '/update', f.state([['k', 'forged']], Date.now() / 1000 + 100));
    unchanged();
  });

  it('a replayed older genuine state is answered but not applied', async () => {
    // A spy says Hello to b and sends it an UPDATE: b answers with its own
    // genuine, signed State. After b moves on, the spy replays that State to a.
    const spy = new Forger('spy', net.key);
    assert.equal((await post(b.port, '/hello', spy.hello(9))).status, 200);
    const reply = await post(b.port, '/update', spy.state([['i am', 'spy']]));
    assert.equal(reply.status, 200);
    const genuineOld = reply.body; // sealed [type][State of b]
    const old = decodeState(spy.open(genuineOld).subarray(1), DEFAULT_LIMITS);
    assert.equal(old.nodeId, 'b');
    await b.updateData('k', 'newer');
    assert.equal(a.readData('b', 'k'), 'newer');
    const before = changes.length;
    const replay = await post(
      a.port,
      '/update',
      spy.seal(MsgType.UPDATE, spy.open(genuineOld).subarray(1)),
    );
    // Not accepted: an empty payload, answered as a 204 without a body.
    assert.equal(replay.status, 204);
    assert.equal(replay.body.length, 0);
    assert.equal(a.readData('b', 'k'), 'newer');
    assert.equal(changes.length, before);
    await b.updateData('k', 'genuine');
  });

  it('an UPDATE claiming to come from the receiver itself gets 406', async () => {
    const f = new Forger('a', net.key);
    const r = await post(a.port, '/update', f.state([['x', 'y']]));
    assert.equal(r.status, 406);
    assert.equal(a.readData('a', 'x'), null);
  });

  it('DATA from an unknown ID, or with a bad signature, gets 401 and is not delivered', async () => {
    await expectUniform(a.port, '/data', new Forger('ghost', net.key).data(new Uint8Array([1])));
    await expectUniform(a.port, '/data', new Forger('b', net.key).data(new Uint8Array([1])));
    unchanged();
  });

  it('PEERS from an unknown ID gets 401', async () => {
    await expectUniform(a.port, '/peers', new Forger('ghost', net.key).peers());
  });

  it('a wrong network key gets the same 401 as everything else', async () => {
    const f = new Forger('intruder', 'ffffffffffffffffffffffffffffffff');
    for (const path of ['/hello', '/update', '/ping', '/peers', '/data']) {
      await expectUniform(a.port, path, f.hello(9));
    }
    unchanged();
  });

  it('malformed, truncated and bit-flipped bodies get the same 401', async () => {
    const f = new Forger('b', net.key);
    const good = f.hello(b.port);
    await expectUniform(a.port, '/hello', good.subarray(0, good.length - 16)); // truncated
    const flipped = Uint8Array.from(good);
    flipped[20] = (flipped[20] as number) ^ 1;
    await expectUniform(a.port, '/hello', flipped);
    await expectUniform(a.port, '/hello', 'not even close');
    await expectUniform(a.port, '/update', f.seal(MsgType.UPDATE, new Uint8Array([1, 2, 3])));
    await expectUniform(a.port, '/hello', f.seal(MsgType.UPDATE, new Uint8Array([1]))); // type byte ≠ path
    unchanged();
  });

  it('empty body 400, unknown path 404, GET 405, oversized body 413', async () => {
    assert.equal((await post(a.port, '/hello', '')).status, 400);
    assert.equal((await post(a.port, '/nope', 'x')).status, 404);
    assert.equal((await fetch(`http://${LOCAL}:${a.port}/hello`)).status, 405);
    const huge = new Uint8Array(DEFAULT_LIMITS.maxBodyBytes + 1);
    const r = await post(a.port, '/update', huge).catch((e: Error) => ({
      status: -1,
      body: Buffer.from(e.message),
    }));
    assert.ok(r.status === 413 || r.status === -1, `got ${r.status}`);
    unchanged();
  });

  it('keeps working after all of that', async () => {
    const ev = next<[string]>(a, 'update');
    await b.updateData('after', 'attacks');
    await ev;
    assert.equal(a.readData('b', 'after'), 'attacks');
    const ping = new Forger('x', net.key);
    const r = await post(a.port, '/ping', ping.seal(MsgType.PING, new Uint8Array([0x20])));
    // Answered: an empty payload, as a 204 without a body.
    assert.equal(r.status, 204);
    assert.equal(r.body.length, 0);
  });
});

describe('bad input, plaintext network: the reference status codes', () => {
  const net = new TestNet();
  let a: DSNodeServer;
  before(async () => {
    a = await net.start('p', { aesKey: null });
  });
  after(() => net.stopAll());

  it('400 for a type byte that does not match the path, 406 for a malformed packet, 401 for an unknown sender', async () => {
    const f = new Forger('q', null);
    assert.equal(
      (await post(a.port, '/hello', f.seal(MsgType.UPDATE, new Uint8Array([1])))).status,
      400,
    );
    assert.equal(
      (await post(a.port, '/hello', f.seal(MsgType.HELLO, new Uint8Array([1, 2])))).status,
      406,
    );
    assert.equal((await post(a.port, '/update', f.state([['a', 'b']]))).status, 401);
    const r = await post(a.port, '/hello', f.hello(9));
    assert.equal(r.status, 200);
    assert.ok(a.peers().includes('q'));
  });
});
