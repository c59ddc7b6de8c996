import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createEnvelope } from '../../src/crypto/envelope.js';
import { KeyPair } from '../../src/crypto/signing.js';
import { DecodeError } from '../../src/errors.js';
import { dataSink, type StreamedData } from '../../src/node/data-sink.js';
import { bodyBytes } from '../../src/wire/body.js';
import { frame, MsgType } from '../../src/wire/frame.js';
import { DEFAULT_LIMITS } from '../../src/wire/limits.js';
import {
  dataInnerDigest,
  decodeData,
  encodeData,
  encodeDataHead,
  signedBytesData,
} from '../../src/wire/packets.js';

/**
 * The big-message paths against the whole-buffer ones: a body sealed in
 * parts and slices, and opened chunk by chunk as it arrives, must be the
 * same bytes, refused in the same cases, as the plain seal/open and
 * node:crypto's aes-128-cbc.
 */
const KEY = randomBytes(16).toString('hex');
const env = createEnvelope(KEY);
const plainEnv = createEnvelope(null);

/** Bytes cut at the given fractions (sorted, deduplicated). */
function cut(b: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((f) => Math.floor(f * b.length)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    out.push(b.subarray(from, p));
    from = p;
  }
  out.push(b.subarray(from));
  return out;
}

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });
// Around the 16-byte blocks, the 1 KiB open switch-over and a 512 KiB slice.
const size = fc.oneof(
  fc.integer({ min: 0, max: 70 }),
  fc.integer({ min: 1000, max: 1100 }),
  fc.constantFrom(512 * 1024 - 1, 512 * 1024, 512 * 1024 + 17, 1024 * 1024 + 5),
);
/** n bytes made from a seed (a counterexample prints as two numbers, not the bytes). */
function pattern(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
const payload = fc.tuple(size, fc.integer());

describe('sealing in parts and opening as bytes arrive', () => {
  it('sealParts gives the bytes of seal and of node:crypto aes-128-cbc, however the parts are cut', () => {
    fc.assert(
      fc.property(payload, cuts, ([n, seed], at) => {
        const plain = pattern(n, seed);
        const iv = randomBytes(16);
        const whole = env.seal(plain, iv);
        const c = createCipheriv('aes-128-cbc', Buffer.from(KEY, 'hex'), iv);
        assert.deepEqual(Buffer.from(whole), Buffer.concat([iv, c.update(plain), c.final()]));
        const body = env.sealParts(cut(plain, at), iv);
        assert.equal(body.length, whole.length);
        assert.deepEqual(Buffer.from(bodyBytes(body)), Buffer.from(whole));
        // A retry iterates again: the same bytes.
        assert.deepEqual(Buffer.from(bodyBytes(body)), Buffer.from(whole));
        assert.deepEqual(Buffer.from(bodyBytes(plainEnv.sealParts(cut(plain, at)))), plain);
      }),
      { numRuns: 60 },
    );
  });

  it('opener, fed any split of the body, gives what open gives', () => {
    fc.assert(
      fc.property(payload, cuts, ([n, seed], at) => {
        const plain = pattern(n, seed);
        for (const e of [env, plainEnv]) {
          const body = e.seal(plain);
          let seen = 0;
          const o = e.opener(body.length, (_p, upTo) => {
            assert.ok(upTo >= seen, 'plaintext only grows');
            seen = upTo;
          });
          for (const chunk of cut(body, at)) o.push(chunk);
          assert.deepEqual(Buffer.from(o.finish() as Uint8Array), Buffer.from(e.open(body)));
          assert.equal(seen, plain.length);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('opener refuses what open refuses: bad padding, a wrong key, a wrong length', () => {
    const other = createEnvelope(randomBytes(16).toString('hex'));
    fc.assert(
      fc.property(payload, cuts, fc.nat(), ([n, seed], at, flip) => {
        const plain = pattern(n, seed);
        const body = Buffer.from(env.seal(plain));
        const tampered = Buffer.from(body);
        const i = body.length - 1 - (flip % 16); // the last block: the padding
        tampered[i] = (tampered[i] as number) ^ 0x5a;
        for (const [e, b] of [
          [env, tampered],
          [other, body],
        ] as const) {
          let whole: unknown = null;
          try {
            e.open(b);
          } catch (err) {
            whole = err;
          }
          let streamed: unknown = null;
          try {
            const o = e.opener(b.length);
            for (const chunk of cut(b, at)) o.push(chunk);
            o.finish();
          } catch (err) {
            streamed = err;
          }
          // A flipped padding byte may still leave valid padding: then both accept.
          assert.equal(streamed === null, whole === null);
          if (streamed) assert.ok(streamed instanceof DecodeError);
        }
      }),
      { numRuns: 60 },
    );
    for (const n of [0, 16, 31, 33]) {
      assert.throws(() => env.opener(n), { code: 'DSN_ERR_DECRYPT' });
    }
  });
});

describe('a DATA read as it arrives', () => {
  const kp = KeyPair.generate();
  const data = fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.constantFrom(65_536, 300 * 1024 + 3));

  it('gives the packet decodeData gives and the digest of its signed bytes', () => {
    fc.assert(
      fc.property(
        fc.tuple(data, fc.integer()),
        fc.string({ minLength: 1, maxLength: 30 }),
        cuts,
        ([n, seed], nodeId, at) => {
          const bytes = pattern(n, seed);
          const inner = dataInnerDigest(nodeId, bytes);
          const sig = kp.signInner(inner);
          assert.ok(kp.publicKey.verify(signedBytesData({ nodeId, sig, data: bytes }), sig));
          const head = encodeDataHead(nodeId, sig, bytes.length);
          const packet = encodeData({ nodeId, sig, data: bytes });
          assert.deepEqual(Buffer.from(packet), Buffer.concat([head, bytes]));
          for (const e of [env, plainEnv]) {
            const body = e.seal(frame(MsgType.DATA, packet));
            const sink = dataSink(e, body.length, DEFAULT_LIMITS);
            for (const chunk of cut(body, at)) sink.push(chunk);
            const got = sink.finish() as StreamedData;
            const want = decodeData(packet, DEFAULT_LIMITS);
            assert.equal(got.data.nodeId, want.nodeId);
            assert.deepEqual(Buffer.from(got.data.sig), Buffer.from(want.sig));
            assert.ok(Buffer.from(got.data.data).equals(bytes));
            assert.ok(got.inner.equals(inner));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses a body of another type, a malformed packet and trailing bytes', () => {
    const good = encodeData({ nodeId: 'n', sig: new Uint8Array(64), data: randomBytes(100) });
    const bad = [
      frame(MsgType.UPDATE, good),
      frame(MsgType.DATA, good.subarray(0, good.length - 1)),
      frame(MsgType.DATA, Buffer.concat([good, Buffer.from('x')])),
      frame(MsgType.DATA, Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3])),
    ];
    for (const plain of bad) {
      const body = env.seal(plain);
      const sink = dataSink(env, body.length, DEFAULT_LIMITS);
      sink.push(body);
      assert.throws(() => sink.finish(), DecodeError);
    }
  });
});
