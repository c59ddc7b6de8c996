import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createEnvelope } from '../../src/crypto/envelope.js';
import { KeyPair } from '../../src/crypto/signing.js';
import { DecodeError } from '../../src/errors.js';
import { DSNodeServer, FakeClock, MemoryNetwork } from '../../src/index.js';
import type { MemoryTransport } from '../../src/transport/memory.js';
import { frame, MsgType, unframe } from '../../src/wire/frame.js';
import { DEFAULT_LIMITS } from '../../src/wire/limits.js';
import {
  decodeBundle,
  decodeData,
  decodeDigest,
  decodeHello,
  decodeLeave,
  decodePeers,
  decodeProbe,
  decodeState,
  decodeSummary,
  digestSummary,
  encodeBundle,
  encodeData,
  encodeDigest,
  encodeLeave,
  encodePeers,
  encodeProbe,
  encodeState,
  signedBytesState,
} from '../../src/wire/packets.js';
import { parseStateJson, pyJsonDumps } from '../../src/wire/pyjson.js';
import { bodies, type Case, LIES, lengthFields, payloadMutations, type Seed } from './mutate.js';
import {
  fingerprint,
  judge,
  newTally,
  RICH,
  seedsFor,
  settledMemory,
  type Tally,
  watchEvents,
} from './target.js';

/**
 * Fuzzing of every decoder and of the request handler (PROTOCOL.md §8: no
 * crash, no unbounded allocation, nothing learnt from a refusal). The
 * handler runs on the in-memory transport with a fake clock, so no timer
 * fires and nothing but the fuzzed requests can change a node.
 *
 * FUZZ_SCALE=10 runs ten times as many cases; FUZZ_SEED=n replays a run.
 */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const runs = (n: number) => ({
  numRuns: Math.round(n * SCALE),
  ...(SEED === undefined ? {} : { seed: SEED }),
});
const L = DEFAULT_LIMITS;
const KEY = 'c0c1c2c3c4c5c6c7c8c9cacbcccdcecf';
const MIN_CASES = 100_000;

let total = 0;
const perTarget: Record<string, number> = {};
const count = (what: string) => {
  total++;
  perTarget[what] = (perTarget[what] ?? 0) + 1;
};

const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);
process.on('unhandledRejection', onUnhandled);
process.on('uncaughtException', onUnhandled);

/** A decoder may only return or throw the library's DecodeError. */
function refusesCleanly(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (!(err instanceof DecodeError)) {
      throw new Error(`not a DecodeError: ${(err as Error)?.stack ?? String(err)}`);
    }
    return false;
  }
}

// ---- decoders ----------------------------------------------------------------

/** Valid packets of every type, signed by throwaway keys (decoders do not verify). */
function decoderSeeds(): Seed[] {
  const kp = KeyPair.generate();
  const sig = kp.sign(new Uint8Array([1]));
  const state = (entries: [string, string][], nodeId = 'n') => {
    const s = { nodeId, lastUpdate: 1.7e9 + 0.5, sig, stateJson: pyJsonDumps(new Map(entries)) };
    s.sig = kp.sign(signedBytesState(s));
    return encodeState(s);
  };
  const peers = (n: number) =>
    encodePeers({
      nodeId: 'lister',
      sig,
      connections: Array.from({ length: n }, (_, i) => ({
        nodeId: `p${i}`,
        address: i % 2 ? '' : `192.168.1.${i}`,
        port: 8000 + i,
      })),
    });
  const hello = (address: string, detected: string) =>
    new Uint8Array(
      Buffer.concat([
        lenPrefixed('0.9.0'),
        lenPrefixed('node-é'),
        lenPrefixed(address),
        u32(7000),
        lenPrefixed(kp.publicKey.raw),
        lenPrefixed(sig),
        lenPrefixed(detected),
      ]),
    );
  return [
    { name: 'hello', type: MsgType.HELLO, payload: hello('', '') },
    { name: 'hello with addresses', type: MsgType.HELLO, payload: hello('10.1.2.3', '10.9.9.9') },
    { name: 'peers (none)', type: MsgType.PEERS, payload: peers(0) },
    { name: 'peers (5)', type: MsgType.PEERS, payload: peers(5) },
    { name: 'state {}', type: MsgType.UPDATE, payload: state([]) },
    { name: 'state (rich)', type: MsgType.UPDATE, payload: state(RICH, 'ü') },
    {
      name: 'data',
      type: MsgType.DATA,
      payload: encodeData({ nodeId: 'd', sig, data: new Uint8Array(40).fill(7) }),
    },
    {
      name: 'data (empty)',
      type: MsgType.DATA,
      payload: encodeData({ nodeId: 'd', sig, data: new Uint8Array(0) }),
    },
    // The extensions spoken between nodes of this implementation.
    {
      name: 'leave',
      type: MsgType.LEAVE,
      payload: encodeLeave({ nodeId: 'node-é', at: 1.5, sig }),
    },
    { name: 'digest', type: MsgType.DIGEST, payload: encodeDigest(entries) },
    { name: 'digest (empty)', type: MsgType.DIGEST, payload: encodeDigest([]) },
    {
      name: 'bundle',
      type: MsgType.RELAY,
      payload: encodeBundle({ states: [state([]), state(RICH, 'ü')], wanted: ['a', 'node-é'] }),
    },
    { name: 'probe', type: MsgType.PROBE, payload: encodeProbe('node-é') },
    { name: 'summary', type: MsgType.SUMMARY, payload: digestSummary(entries) },
  ];
}

const entries = [
  { nodeId: 'a', lastUpdate: 1.25 },
  { nodeId: 'node-é', lastUpdate: 1_700_000_000.5 },
];

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

function lenPrefixed(v: string | Uint8Array): Buffer {
  const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);
  return Buffer.concat([u32(b.length), b]);
}

const DECODERS: { name: string; type: MsgType; dec: (b: Uint8Array) => unknown; n: number }[] = [
  { name: 'decodeHello', type: MsgType.HELLO, dec: (b) => decodeHello(b, L), n: 12_000 },
  { name: 'decodePeers', type: MsgType.PEERS, dec: (b) => decodePeers(b, L), n: 12_000 },
  { name: 'decodeState', type: MsgType.UPDATE, dec: (b) => decodeState(b, L), n: 12_000 },
  { name: 'decodeData', type: MsgType.DATA, dec: (b) => decodeData(b, L), n: 12_000 },
  { name: 'decodeLeave', type: MsgType.LEAVE, dec: (b) => decodeLeave(b, L), n: 4_000 },
  { name: 'decodeDigest', type: MsgType.DIGEST, dec: (b) => decodeDigest(b, L), n: 4_000 },
  { name: 'decodeBundle', type: MsgType.RELAY, dec: (b) => decodeBundle(b, L), n: 4_000 },
  { name: 'decodeProbe', type: MsgType.PROBE, dec: (b) => decodeProbe(b, L), n: 4_000 },
  { name: 'decodeSummary', type: MsgType.SUMMARY, dec: (b) => decodeSummary(b), n: 2_000 },
];

describe('fuzz: decoders refuse bad input with a DecodeError, nothing else', () => {
  const seeds = decoderSeeds();

  for (const d of DECODERS) {
    it(`${d.name}: random, truncated, bit-flipped, length-lying, trailing, spliced`, () => {
      const mine = seeds.filter((s) => s.type === d.type);
      // Every seed decodes: the mutations start from valid packets.
      for (const s of mine)
        assert.ok(
          refusesCleanly(() => d.dec(s.payload)),
          s.name,
        );
      const inputs = payloadMutations(mine).map((m) => m.payload);
      let refused = 0;
      fc.assert(
        fc.property(inputs, (b) => {
          count(d.name);
          if (!refusesCleanly(() => d.dec(b))) refused++;
        }),
        runs(d.n),
      );
      assert.ok(
        refused > 0,
        'some cases must be refused, or the fuzzer is not reaching the checks',
      );
    });
  }

  it('parseStateJson: random text and mutated state JSON', () => {
    const valid = [pyJsonDumps(new Map(RICH)), '{}', '{"a": "b"}', ' { "x" : "\\u00e9\\/" } '];
    const specials = fc.constantFrom(
      ...'{}[]":,\\ \t\n\r/ubfnrt0123456789aAeE\u0000\u001f\u007f\ud800\udc00é'.split(''),
    );
    const mutated = fc
      .tuple(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.nat(3), specials), { minLength: 1, maxLength: 4 }),
      )
      .map(([t, edits]) => {
        let s = t;
        for (const [at, op, ch] of edits) {
          const i = at % (s.length + 1);
          if (op === 0)
            s = s.slice(0, i) + ch + s.slice(i); // insert
          else if (op === 1)
            s = s.slice(0, i) + ch + s.slice(i + 1); // replace
          else if (op === 2)
            s = s.slice(0, i) + s.slice(i + 1); // delete
          else s = s.slice(0, i); // truncate
        }
        return s;
      });
    const texts = fc.oneof(
      fc.string({ maxLength: 80, unit: 'binary' }),
      fc.string({ maxLength: 80, unit: fc.constantFrom(...'{}":,\\u0 a'.split('')) }),
      mutated,
    );
    let parsed = 0;
    fc.assert(
      fc.property(texts, (t) => {
        count('parseStateJson');
        let m: Map<string, string> | undefined;
        if (!refusesCleanly(() => (m = parseStateJson(t, L)))) return;
        parsed++;
        // What parses is a string map that survives a Python-style round trip.
        assert.ok(m instanceof Map);
        for (const [k, v] of m) assert.ok(typeof k === 'string' && typeof v === 'string');
        assert.deepEqual([...parseStateJson(pyJsonDumps(m), L)], [...m]);
      }),
      runs(15_000),
    );
    assert.ok(parsed > 0);
  });

  it('envelope.open: random and mutated ciphertexts, wrong keys', () => {
    const env = createEnvelope(KEY);
    const other = createEnvelope('d0'.repeat(16));
    const plain = fc.uint8Array({ maxLength: 100 });
    const cipher = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.tuple(plain, fc.nat(), fc.integer({ min: 0, max: 7 })).map(([p, at, bit]) => {
        const c = Uint8Array.from(env.seal(p));
        c[at % c.length] = (c[at % c.length] as number) ^ (1 << bit);
        return c;
      }),
      fc.tuple(plain, fc.nat()).map(([p, n]) => {
        const c = env.seal(p);
        return c.subarray(0, n % c.length);
      }),
      plain.map((p) => other.seal(p)),
    );
    fc.assert(
      fc.property(cipher, (c) => {
        count('envelope.open');
        try {
          assert.ok(env.open(c) instanceof Uint8Array);
        } catch (err) {
          assert.ok(err instanceof DecodeError && err.code === 'DSN_ERR_DECRYPT', String(err));
        }
      }),
      runs(10_000),
    );
    // And what is sealed opens to itself.
    fc.assert(
      fc.property(plain, (p) => {
        count('envelope.open');
        assert.deepEqual(new Uint8Array(env.open(env.seal(p))), p);
      }),
      runs(2_000),
    );
  });

  it('unframe: any body against any expected type', () => {
    const types = [MsgType.HELLO, MsgType.PEERS, MsgType.UPDATE, MsgType.PING, MsgType.DATA];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...types), (b, t) => {
        count('unframe');
        let out: Uint8Array | undefined;
        if (refusesCleanly(() => (out = unframe(b, t)))) {
          assert.equal(b[0], t);
          assert.deepEqual(out, b.subarray(1));
        } else {
          assert.ok(b.length === 0 || b[0] !== t);
        }
      }),
      runs(8_000),
    );
  });
});

// ---- the request handler -----------------------------------------------------

interface Target {
  network: MemoryNetwork;
  target: DSNodeServer;
  known: DSNodeServer;
  fuzzer: MemoryTransport;
  seeds: Seed[];
  events: Record<string, number>;
}

/**
 * A target node and one known peer on the in-memory network with a fake
 * clock that is never advanced: no tick, no gossip, no retry — only the
 * fuzzed requests reach the target.
 */
async function memoryTarget(aesKey: string | null): Promise<Target> {
  const network = new MemoryNetwork();
  const clock = new FakeClock(Date.now());
  const base = { port: 7000, aesKey, credentialDir: null, clock };
  const target = await DSNodeServer.start({
    ...base,
    nodeId: 'target',
    transport: network.transport('127.0.1.1'),
  });
  const known = await DSNodeServer.start({
    ...base,
    nodeId: 'known',
    transport: network.transport('127.0.1.2'),
    bootstrapNodes: [{ address: '127.0.1.1', port: 7000 }],
  });
  await known.updateData('k', 'old');
  const older = known.node.core.ownStateBytes();
  for (const [k, v] of RICH) await known.updateData(k, v);
  await target.updateData('mine', 'target value');
  assert.equal(target.readData('known', '__proto__'), 'not a prototype');
  const seeds = seedsFor(target, known, older);
  return {
    network,
    target,
    known,
    fuzzer: network.transport('127.0.1.9'),
    seeds,
    events: watchEvents(target),
  };
}

async function fuzzHandler(t: Target, aesKey: string | null, n: number, tally: Tally) {
  const before = fingerprint([t.target, t.known]);
  const mem0 = process.memoryUsage().arrayBuffers;
  let peak = 0;
  await fc.assert(
    fc.asyncProperty(bodies(t.seeds, aesKey), async (c: Case) => {
      count(aesKey ? 'handler (encrypted)' : 'handler (plaintext)');
      const r = await t.fuzzer.request('127.0.1.1', 7000, c.path, c.body, { timeoutMs: 1000 });
      const wrong = judge('target', aesKey, c, r, tally);
      assert.equal(wrong, null);
      assert.equal(fingerprint([t.target, t.known]), before, `state changed by ${c.kind}`);
      if (tally.cases % 1000 === 0) {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - mem0);
      }
    }),
    runs(n),
  );
  assert.deepEqual(
    t.events,
    { peer: 0, update: 0, disconnect: 0, receive: 0, selfUpdate: 0, alert: 0 },
    'no event may fire on the target',
  );
  assert.ok(peak < 64 * 1024 * 1024, `ArrayBuffer memory grew by ${peak} bytes`);
}

/** The node still works after the fuzzing: a genuine update goes through. */
async function stillWorks(t: Target) {
  await t.known.updateData('after', 'fuzzing');
  assert.equal(t.target.readData('known', 'after'), 'fuzzing');
  await t.target.updateData('mine', 'still here');
  assert.equal(t.known.readData('target', 'mine'), 'still here');
}

describe('fuzz: the request handler (in-memory transport, fake clock)', () => {
  let enc: Target;
  let plain: Target;
  before(async () => {
    enc = await memoryTarget(KEY);
    plain = await memoryTarget(null);
  });
  after(async () => {
    for (const t of [enc, plain]) {
      await t?.target.stop();
      await t?.known.stop();
    }
  });

  it('encrypted: every refusal is the uniform 401, nothing changes, nothing leaks', async () => {
    const tally = newTally();
    await fuzzHandler(enc, KEY, 30_000, tally);
    console.log(`handler (encrypted) statuses: ${JSON.stringify(tally)}`);
    assert.ok((tally.statuses[401] ?? 0) > tally.cases / 2);
    await stillWorks(enc);
  });

  it('plaintext: always a 4xx (or 505 for another version), nothing changes', async () => {
    const tally = newTally();
    await fuzzHandler(plain, null, 15_000, tally);
    console.log(`handler (plaintext) statuses: ${JSON.stringify(tally)}`);
    for (const s of [400, 401, 406]) assert.ok((tally.statuses[s] ?? 0) > 0, `some ${s}`);
    await stillWorks(plain);
  });

  it('a 4 GB length prefix allocates nothing, in the decoders or through the handler', async () => {
    // Every length field of every seed set to each lie, through the decoder
    // and through the handler (encrypted and not), many times over.
    const cases: { type: MsgType; payload: Uint8Array }[] = [];
    for (const s of enc.seeds) {
      const fields = lengthFields(s.type, s.payload);
      for (const at of fields) {
        for (const lie of LIES) {
          const p = Uint8Array.from(s.payload);
          new DataView(p.buffer).setUint32(at, lie, true);
          cases.push({ type: s.type, payload: p });
        }
      }
    }
    assert.ok(cases.length > 100);
    const dec: Record<number, (b: Uint8Array) => unknown> = {
      [MsgType.HELLO]: (b) => decodeHello(b, L),
      [MsgType.PEERS]: (b) => decodePeers(b, L),
      [MsgType.UPDATE]: (b) => decodeState(b, L),
      [MsgType.DATA]: (b) => decodeData(b, L),
    };
    const envEnc = createEnvelope(KEY);
    const before = settledMemory();
    const fpEnc = fingerprint([enc.target]);
    const fpPlain = fingerprint([plain.target]);
    let peakBuffers = 0;
    const rounds = Math.max(1, Math.round(4 * SCALE));
    for (let round = 0; round < rounds; round++) {
      for (const c of cases) {
        const path = ['', '/hello', '/peers', '/update', '/ping', '/data'][c.type] as string;
        count('4 GB prefixes');
        assert.equal(
          refusesCleanly(() => dec[c.type]?.(c.payload)),
          false,
        );
        const e = await enc.fuzzer.request(
          '127.0.1.1',
          7000,
          path,
          envEnc.seal(frame(c.type, c.payload)),
          {
            timeoutMs: 1000,
          },
        );
        assert.deepEqual([e.status, Buffer.from(e.body).toString()], [401, 'not authorized']);
        const p = await plain.fuzzer.request('127.0.1.1', 7000, path, frame(c.type, c.payload), {
          timeoutMs: 1000,
        });
        assert.equal(p.status, 406, `plaintext ${path}`);
        peakBuffers = Math.max(
          peakBuffers,
          process.memoryUsage().arrayBuffers - before.arrayBuffers,
        );
      }
    }
    const after = settledMemory();
    const heapGrowth = after.heapUsed - before.heapUsed;
    console.log(
      `4 GB prefixes: ${cases.length * rounds} bodies, peak ArrayBuffer growth ${peakBuffers} B, heap growth ${heapGrowth} B`,
    );
    assert.ok(peakBuffers < 16 * 1024 * 1024, `ArrayBuffers peaked ${peakBuffers} B above start`);
    assert.ok(heapGrowth < 16 * 1024 * 1024, `heap grew by ${heapGrowth} B`);
    assert.equal(fingerprint([enc.target]), fpEnc);
    assert.equal(fingerprint([plain.target]), fpPlain);
  });
});

describe('fuzz: totals', () => {
  it(`at least ${MIN_CASES.toLocaleString('en')} cases, no unhandled rejection`, () => {
    console.log(`fuzz cases: ${total} in all: ${JSON.stringify(perTarget)}`);
    assert.deepEqual(unhandled, []);
    assert.ok(total >= MIN_CASES * Math.min(1, SCALE), `only ${total} cases`);
  });
});
