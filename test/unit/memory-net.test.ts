import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import type { Clock, TimerHandle } from '../../src/clock.js';
import * as signing from '../../src/crypto/signing.js';
import {
  cryptoBackend as initialBackend,
  insecureSimulationBackend,
  KeyPair,
  nodeBackend,
  useSigningBackendForSimulation,
} from '../../src/crypto/signing.js';
import type { RequestHandler, Response } from '../../src/index.js';
import * as pkg from '../../src/index.js';
import { DSNodeServer, DsnError, FakeClock, MemoryNetwork, PeerError } from '../../src/index.js';
import { failureOf } from '../../src/node/peer-table.js';
import { type Delivery, seededRandom } from '../../src/transport/memory.js';
import { allSee } from '../helpers/net.js';

const LISTEN = { host: '0.0.0.0', port: 0, maxBodyBytes: 1 << 20 };
const OPTS = { timeoutMs: 2000 };

/** A server at `address` answering 200 with what it got; `seen` records the clock at each request. */
async function echo(net: MemoryNetwork, address: string, clock?: FakeClock) {
  const seen: number[] = [];
  const handler: RequestHandler = (req) => {
    seen.push(clock?.now() ?? 0);
    return { status: 200, body: req.body };
  };
  const port = await net.transport(address).listen(handler, LISTEN);
  return { port, seen };
}

/** When (on the clock) a request failed, and with what; handled at once. */
function settle(clock: FakeClock, p: Promise<unknown>) {
  const out: { at: number | null; error: unknown } = { at: null, error: null };
  p.then(
    () => {
      out.at = clock.now();
    },
    (err: unknown) => {
      out.at = clock.now();
      out.error = err;
    },
  );
  return out;
}

/** `fake`, counting the timers set on it and keeping those that neither fired nor were cleared. */
function counted(fake: FakeClock) {
  const pending = new Set<TimerHandle>();
  const timers = { set: 0, pending };
  const clock: Clock = {
    now: () => fake.now(),
    setTimeout: (fn, ms) => {
      timers.set++;
      const h = fake.setTimeout(() => {
        pending.delete(h);
        fn();
      }, ms);
      pending.add(h);
      return h;
    },
    clearTimeout: (h) => {
      pending.delete(h);
      fake.clearTimeout(h);
    },
  };
  return { clock, timers };
}

/** Real timers pending in this process. */
const realTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** One turn of the event loop: whatever was queued by then has run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

const OK: Response = { status: 200, body: Buffer.from('ok') };

describe('MemoryNetwork delays and losses', () => {
  it('by default delivers at once, without any clock (as before)', async () => {
    const net = new MemoryNetwork();
    const { port, seen } = await echo(net, '10.0.0.2');
    const res = await net
      .transport('10.0.0.1')
      .request('10.0.0.2', port, '/ping', Buffer.from('x'), OPTS);
    assert.equal(res.status, 200);
    assert.equal(Buffer.from(res.body).toString(), 'x');
    assert.equal(seen.length, 1);
  });

  it('delays each way on the given FakeClock: the handler at +d, the answer at +2d', async () => {
    const clock = new FakeClock(1_000_000);
    const net = new MemoryNetwork({ clock, delayMs: { min: 3, max: 3 } });
    const { port, seen } = await echo(net, '10.0.0.2', clock);
    let doneAt: number | null = null;
    const p = net
      .transport('10.0.0.1')
      .request('10.0.0.2', port, '/ping', Buffer.from('x'), OPTS)
      .then((r) => {
        doneAt = clock.now();
        return r;
      });
    await clock.advance(2);
    assert.deepEqual(seen, [], 'not there before the delay');
    await clock.advance(2);
    assert.deepEqual(seen, [1_000_003]);
    assert.equal(doneAt, null);
    await clock.advance(10);
    assert.equal(doneAt, 1_000_006);
    assert.equal((await p).status, 200);
  });

  it('runs on the fake clock only: a 1 s delay takes no real second', async () => {
    const clock = new FakeClock();
    const net = new MemoryNetwork({ clock, delayMs: { min: 1000, max: 1000 } });
    const { port } = await echo(net, '10.0.0.2');
    const t0 = performance.now();
    const p = net.transport('10.0.0.1').request('10.0.0.2', port, '/ping', Buffer.from('x'), OPTS);
    await clock.advance(2000);
    assert.equal((await p).status, 200);
    assert.ok(performance.now() - t0 < 500, 'real time passed: real timers?');
  });

  it('draws uniform delays in [min, max] from the PRNG passed in: the same seed, the same delays', async () => {
    const run = async (seed: number) => {
      const clock = new FakeClock(0);
      const net = new MemoryNetwork({
        clock,
        delayMs: { min: 1, max: 5 },
        random: seededRandom(seed),
      });
      const { port, seen } = await echo(net, '10.0.0.2', clock);
      const client = net.transport('10.0.0.1');
      const done = Array.from({ length: 200 }, () =>
        client.request('10.0.0.2', port, '/ping', Buffer.from('x'), OPTS),
      );
      await clock.advance(20);
      await Promise.all(done);
      return seen;
    };
    const a = await run(7);
    assert.equal(a.length, 200);
    assert.ok(
      a.every((t) => t >= 1 && t <= 5),
      `${Math.min(...a)}–${Math.max(...a)}`,
    );
    assert.ok(Math.max(...a) - Math.min(...a) > 3, 'spread over the range');
    assert.deepEqual(await run(7), a);
    assert.notDeepEqual(await run(8), a);
  });

  it('a lost request is a blackholed packet: DSN_ERR_TIMEOUT when its timeout runs out on the clock', async () => {
    const clock = new FakeClock(0);
    const net = new MemoryNetwork({ clock, lossRate: 1 });
    const { port, seen } = await echo(net, '10.0.0.2', clock);
    const p = settle(
      clock,
      net.transport('10.0.0.1').request('10.0.0.2', port, '/ping', Buffer.from('x'), {
        timeoutMs: 1500,
      }),
    );
    await clock.advance(1499);
    assert.equal(p.at, null);
    await clock.advance(10);
    assert.equal(p.at, 1500);
    assert.ok(p.error instanceof PeerError && p.error.code === 'DSN_ERR_TIMEOUT');
    assert.deepEqual(seen, [], 'a lost request never reaches the server');
  });

  it('loses requests and answers at the given rate; a lost answer was handled', async () => {
    const clock = new FakeClock(0);
    const deliveries: Delivery[] = [];
    const net = new MemoryNetwork({
      clock,
      delayMs: { min: 1, max: 2 },
      lossRate: 0.1,
      random: seededRandom(1),
      observer: (d) => deliveries.push(d),
    });
    const { port, seen } = await echo(net, '10.0.0.2', clock);
    const client = net.transport('10.0.0.1');
    const n = 2000;
    const results = await (async () => {
      const all = Array.from({ length: n }, () =>
        client.request('10.0.0.2', port, '/update', Buffer.from('abc'), OPTS).then(
          () => true,
          (err: PeerError) => {
            assert.equal(err.code, 'DSN_ERR_TIMEOUT');
            return false;
          },
        ),
      );
      await clock.advance(3000);
      return Promise.all(all);
    })();
    const failed = results.filter((ok) => !ok).length;
    // Either way lost: 1 − 0.9² = 19 %.
    assert.ok(failed > 0.15 * n && failed < 0.23 * n, `${failed} of ${n} failed`);
    // Requests that arrived: about 90 %; some of them lost their answer.
    assert.ok(seen.length > 0.87 * n && seen.length < 0.93 * n, `${seen.length} arrived`);
    assert.ok(n - seen.length < failed, 'some answers were lost after the server handled them');
    assert.equal(deliveries.filter((d) => d.kind === 'request').length, seen.length);
    assert.equal(deliveries.filter((d) => d.kind === 'response').length, n - failed);
    assert.deepEqual(
      { ...deliveries[0], bytes: 0 },
      { kind: 'request', from: '10.0.0.1', to: '10.0.0.2', path: '/update', bytes: 0 },
    );
    assert.equal(client.stats.requestsSent, n, 'a lost request was sent all the same');
  });

  it('an unreachable host refuses after a round trip; with blackhole, times out on the clock', async () => {
    const clock = new FakeClock(0);
    const net = new MemoryNetwork({ clock, delayMs: { min: 2, max: 2 } });
    const client = net.transport('10.0.0.1');
    const refused = settle(clock, client.request('10.0.0.9', 1, '/ping', Buffer.from('x'), OPTS));
    await clock.advance(10);
    assert.equal(refused.at, 4);
    assert.ok(refused.error instanceof PeerError && refused.error.code === 'DSN_ERR_PEER');
    assert.equal(failureOf(refused.error), 'refused');
    // A refusal that would come back after the timeout is not waited for either.
    const late = settle(
      clock,
      client.request('10.0.0.9', 1, '/ping', Buffer.from('x'), { timeoutMs: 3 }),
    );
    await clock.advance(10);
    assert.equal(late.at, 10 + 3);
    assert.ok(late.error instanceof PeerError && late.error.code === 'DSN_ERR_TIMEOUT');
    net.blackhole = true;
    const lost = settle(clock, client.request('10.0.0.9', 1, '/ping', Buffer.from('x'), OPTS));
    await clock.advance(3000);
    assert.equal(lost.at, 20 + 2000);
    assert.ok(lost.error instanceof PeerError && lost.error.code === 'DSN_ERR_TIMEOUT');
  });

  it('needs a clock for delays or losses, and sane numbers', () => {
    assert.throws(() => new MemoryNetwork({ delayMs: { min: 1, max: 5 } }), /clock/);
    assert.throws(() => new MemoryNetwork({ lossRate: 0.01 }), /clock/);
    const clock = new FakeClock();
    assert.throws(() => new MemoryNetwork({ clock, lossRate: 2 }), RangeError);
    assert.throws(() => new MemoryNetwork({ clock, delayMs: { min: 5, max: 1 } }), RangeError);
  });

  it('nodes on a delayed, lossy network join and converge, all on the fake clock', async () => {
    const clock = new FakeClock(Date.now());
    const network = new MemoryNetwork({
      clock,
      delayMs: { min: 1, max: 5 },
      lossRate: 0.02,
      random: seededRandom(3),
    });
    const nodes: DSNodeServer[] = [];
    const addr = (i: number) => `10.0.1.${i + 1}`;
    const first = DSNodeServer.start({
      nodeId: 'n0',
      port: 0,
      credentialDir: null,
      clock,
      transport: network.transport(addr(0)),
    });
    nodes.push(await first);
    const rest = Array.from({ length: 7 }, (_, k) =>
      DSNodeServer.start({
        nodeId: `n${k + 1}`,
        port: 0,
        credentialDir: null,
        clock,
        transport: network.transport(addr(k + 1)),
        bootstrapNodes: [{ address: addr(0), port: (nodes[0] as DSNodeServer).port }],
      }),
    );
    await clock.advance(30_000);
    nodes.push(...(await Promise.all(rest)));
    assert.ok(
      allSee(
        nodes,
        nodes.map((s) => s.nodeId()),
      ),
    );
    const w = nodes[3] as DSNodeServer;
    void w.updateData('k', 'v');
    await clock.advance(10_000);
    for (const s of nodes) assert.equal(s.readData(w.nodeId(), 'k'), 'v', s.nodeId());
    const stopping = Promise.all(nodes.map((s) => s.stop()));
    await clock.advance(10_000);
    await stopping;
  });
});

describe('MemoryNetwork requests end as over HTTP (the transport contract, also on a clock)', () => {
  it('nothing listening refuses as ECONNREFUSED (a process gone), a cut link as EHOSTUNREACH (a failure)', async () => {
    const net = new MemoryNetwork();
    const { port } = await echo(net, '10.0.0.2');
    const client = net.transport('10.0.0.1');
    const send = (at: number) => client.request('10.0.0.2', at, '/ping', Buffer.from('x'), OPTS);
    const refused = await send(port + 1).catch((err: unknown) => err);
    assert.ok(refused instanceof PeerError && refused.code === 'DSN_ERR_PEER', String(refused));
    assert.equal(refused.status, undefined, 'no status: nothing answered');
    assert.equal((refused.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    assert.equal(failureOf(refused), 'refused');
    net.partition(['10.0.0.1'], ['10.0.0.2']);
    const cut = await send(port).catch((err: unknown) => err);
    assert.ok(cut instanceof PeerError && cut.code === 'DSN_ERR_PEER', String(cut));
    assert.equal((cut.cause as NodeJS.ErrnoException).code, 'EHOSTUNREACH');
    assert.equal(failureOf(cut), 'other', 'a cut link is no sign that the process is gone');
    net.heal();
    assert.equal((await send(port)).status, 200);
  });

  it('on a clock, a handler slower than timeoutMs: DSN_ERR_TIMEOUT at the deadline on that clock, never on a real timer', async () => {
    const fake = new FakeClock(0);
    const deliveries: Delivery[] = [];
    const net = new MemoryNetwork({
      clock: fake,
      delayMs: { min: 3, max: 3 },
      observer: (d) => deliveries.push(d),
    });
    let release: (r: Response) => void = () => {};
    const port = await net.transport('10.0.0.2').listen(
      () =>
        new Promise<Response>((resolve) => {
          release = resolve;
        }),
      LISTEN,
    );
    const before = realTimers();
    const p = settle(
      fake,
      net.transport('10.0.0.1').request('10.0.0.2', port, '/slow', Buffer.from('x'), {
        timeoutMs: 1000,
      }),
    );
    await fake.advance(999);
    assert.equal(p.at, null);
    assert.equal(realTimers(), before, 'no real timer waits with it');
    await fake.advance(1);
    assert.equal(p.at, 1000);
    assert.ok(p.error instanceof PeerError && p.error.code === 'DSN_ERR_TIMEOUT', String(p.error));
    assert.equal(failureOf(p.error), 'timeout');
    // An answer after the deadline is not handed over.
    release(OK);
    await fake.advance(100);
    assert.deepEqual(
      deliveries.map((d) => d.kind),
      ['request'],
    );
  });

  it('on a clock, no timer per request beyond its delays; one while a handler has not answered, cleared when it does', async () => {
    const fake = new FakeClock(0);
    const { clock, timers } = counted(fake);
    const net = new MemoryNetwork({ clock, delayMs: { min: 2, max: 2 } });
    let release: (r: Response) => void = () => {};
    const port = await net.transport('10.0.0.2').listen(
      (req) =>
        req.path === '/slow'
          ? new Promise<Response>((resolve) => {
              release = resolve;
            })
          : OK,
      LISTEN,
    );
    const client = net.transport('10.0.0.1');
    const quick = client.request('10.0.0.2', port, '/ping', Buffer.from('x'), OPTS);
    await fake.advance(10);
    assert.equal((await quick).status, 200);
    assert.equal(timers.set, 2, 'the two one-way delays, no timeout timer');
    const slow = settle(fake, client.request('10.0.0.2', port, '/slow', Buffer.from('x'), OPTS));
    await fake.advance(2);
    assert.equal(timers.pending.size, 1, 'its timeout, while the handler has not answered');
    release(OK);
    await fake.advance(10);
    assert.equal(slow.at, 14);
    assert.equal(slow.error, null);
    assert.equal(timers.pending.size, 0, 'cleared at the answer, not left to fire');
  });

  it('an abort rejects every request on that signal at once with DSN_ERR_STOPPED, on one listener; what is on its way still arrives', async () => {
    const fake = new FakeClock(0);
    const { clock, timers } = counted(fake);
    const net = new MemoryNetwork({ clock, delayMs: { min: 5, max: 5 } });
    const seen: string[] = [];
    const port = await net.transport('10.0.0.2').listen((req) => {
      seen.push(req.path);
      return new Promise<Response>(() => {}); // never answers
    }, LISTEN);
    const client = net.transport('10.0.0.1');
    const ac = new AbortController();
    const other = new AbortController();
    const send = (path: string, signal: AbortSignal) =>
      settle(
        fake,
        client.request('10.0.0.2', port, path, Buffer.from('x'), { timeoutMs: 60_000, signal }),
      );
    const a = send('/a', ac.signal);
    const b = send('/b', ac.signal);
    const kept = send('/kept', other.signal);
    await fake.advance(5);
    assert.deepEqual(seen, ['/a', '/b', '/kept']);
    const c = send('/c', ac.signal);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1, 'one listener per signal');
    await fake.advance(1);
    ac.abort();
    await turn();
    for (const r of [a, b, c]) {
      assert.equal(r.at, 6, 'at once');
      assert.ok(r.error instanceof DsnError && r.error.code === 'DSN_ERR_STOPPED', String(r.error));
    }
    assert.equal(kept.at, null, 'a request on another signal goes on');
    assert.equal(
      timers.pending.size,
      2,
      "c's delay there and kept's timeout: the aborted ones' went",
    );
    await fake.advance(5);
    assert.deepEqual(seen, ['/a', '/b', '/kept', '/c'], 'an aborted request on its way arrives');
    assert.equal(timers.pending.size, 1, 'and nobody waits for its answer');
    const pre = settle(
      fake,
      client.request('10.0.0.2', port, '/pre', Buffer.from('x'), { ...OPTS, signal: ac.signal }),
    );
    await fake.advance(10);
    assert.ok(pre.error instanceof DsnError && pre.error.code === 'DSN_ERR_STOPPED');
    assert.ok(!seen.includes('/pre'), 'an aborted signal sends nothing');
  });

  it('without a clock, real timers only while a handler has not answered or a request is blackholed, cleared at the answer or an abort', async () => {
    const net = new MemoryNetwork();
    let arrived: () => void = () => {};
    const atHandler = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let release: (r: Response) => void = () => {};
    const port = await net.transport('10.0.0.2').listen(
      (req) =>
        req.path === '/slow'
          ? new Promise<Response>((resolve) => {
              arrived();
              release = resolve;
            })
          : OK,
      LISTEN,
    );
    const client = net.transport('10.0.0.1');
    const before = realTimers();
    const long = { timeoutMs: 60_000 };
    assert.equal(
      (await client.request('10.0.0.2', port, '/ping', Buffer.from('x'), long)).status,
      200,
    );
    const slow = client.request('10.0.0.2', port, '/slow', Buffer.from('x'), long);
    await atHandler;
    assert.equal(realTimers(), before + 1, 'its timeout');
    release(OK);
    assert.equal((await slow).status, 200);
    assert.equal(realTimers(), before, 'cleared at the answer');
    net.blackhole = true;
    const ac = new AbortController();
    const lost = client.request('10.0.0.9', 1, '/ping', Buffer.from('x'), {
      ...long,
      signal: ac.signal,
    });
    await turn();
    assert.equal(realTimers(), before + 1, 'the timeout of the blackholed request');
    ac.abort();
    const err = await lost.catch((e: unknown) => e);
    assert.ok(err instanceof DsnError && err.code === 'DSN_ERR_STOPPED', String(err));
    assert.equal(realTimers(), before, 'cleared by the abort');
  });
});

describe('the insecure signing stand-in for simulations', () => {
  it('is never the default, and the package does not export it', () => {
    assert.notEqual(initialBackend, 'INSECURE-simulation');
    assert.ok(!('useSigningBackendForSimulation' in pkg));
    assert.ok(!('insecureSimulationBackend' in pkg));
    assert.notEqual(pkg.cryptoBackend, 'INSECURE-simulation');
  });

  it('signs as SHA-256(public key ‖ digest) padded to 64 bytes, and verifies only that', () => {
    const kp = KeyPair.generate();
    const other = KeyPair.generate();
    const msg = Buffer.from('state');
    const sig = kp.sign(msg, insecureSimulationBackend);
    assert.equal(sig.length, 64);
    assert.deepEqual(Buffer.from(sig.subarray(32)), Buffer.alloc(32));
    assert.ok(kp.publicKey.verify(msg, sig, insecureSimulationBackend));
    assert.ok(!kp.publicKey.verify(Buffer.from('other'), sig, insecureSimulationBackend));
    assert.ok(!other.publicKey.verify(msg, sig, insecureSimulationBackend));
    // It is no ECDSA: real verification refuses it, and it refuses a real signature.
    assert.ok(!kp.publicKey.verify(msg, sig, nodeBackend));
    assert.ok(!kp.publicKey.verify(msg, kp.sign(msg, nodeBackend), insecureSimulationBackend));
  });

  it('useSigningBackendForSimulation switches every key of the process, and null switches back', () => {
    const kp = KeyPair.generate();
    const msg = Buffer.from('hello');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      useSigningBackendForSimulation(insecureSimulationBackend);
      assert.equal(signing.cryptoBackend, 'INSECURE-simulation');
      assert.equal(pkg.cryptoBackend, 'INSECURE-simulation', 'the package says so too');
      const fake = kp.sign(msg);
      assert.deepEqual(fake, kp.sign(msg, insecureSimulationBackend));
      assert.ok(kp.publicKey.verify(msg, fake));
    } finally {
      useSigningBackendForSimulation(null);
    }
    assert.equal(signing.cryptoBackend, initialBackend);
    const real = kp.sign(msg);
    assert.ok(kp.publicKey.verify(msg, real));
    assert.ok(!kp.publicKey.verify(msg, kp.sign(msg, insecureSimulationBackend)));
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        process.off('warning', onWarning);
        assert.ok(
          warnings.some((m) => /INSECURE/.test(m)),
          warnings.join('; '),
        );
        resolve();
      }),
    );
  });
});
