import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createEnvelope } from '../../src/crypto/envelope.js';
import { DecodeError } from '../../src/errors.js';
import { Reader, Writer } from '../../src/wire/bytes.js';
import { DEFAULT_LIMITS } from '../../src/wire/limits.js';
import {
  type Data,
  decodeData,
  decodeHello,
  decodePeers,
  decodeState,
  decodeStateAsSigned,
  encodeData,
  encodeHello,
  encodePeers,
  encodeState,
  type Hello,
  type Peers,
  type State,
  signedBytesState,
} from '../../src/wire/packets.js';
import { parseStateJson, parseStateText, pyJsonDumps, pyString } from '../../src/wire/pyjson.js';

const L = DEFAULT_LIMITS;
const id = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' });
const str = fc.string({ maxLength: 40, unit: 'grapheme' });
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const port = fc.integer({ min: 0, max: 65535 });

const hello: fc.Arbitrary<Hello> = fc.record({
  version: fc.constant('0.9.0'),
  nodeId: id,
  address: str,
  port,
  publicKey: bytes(64),
  sig: fc.oneof(bytes(64), bytes(0)),
  detectedAddress: str,
});
const peers: fc.Arbitrary<Peers> = fc.record({
  nodeId: id,
  sig: bytes(64),
  connections: fc.array(fc.record({ nodeId: id, address: str, port }), { maxLength: 8 }),
});
// Any Unicode, lone surrogates included: JSON carries them as \\uXXXX escapes.
const anyText = fc.string({ maxLength: 30, unit: 'binary' });
const stateMap = fc
  .array(fc.tuple(fc.string({ maxLength: 20, unit: 'binary' }), anyText), { maxLength: 10 })
  .map((e) => new Map(e));
const state: fc.Arbitrary<State> = fc.record({
  nodeId: id,
  lastUpdate: fc.double({ noNaN: true, noDefaultInfinity: true }),
  sig: bytes(64),
  stateJson: stateMap.map(pyJsonDumps),
});
const data: fc.Arbitrary<Data> = fc.record({
  nodeId: id,
  sig: bytes(64),
  data: fc.uint8Array({ maxLength: 200 }),
});

const codecs = [
  { name: 'Hello', arb: hello, enc: encodeHello, dec: (b: Uint8Array) => decodeHello(b, L) },
  { name: 'Peers', arb: peers, enc: encodePeers, dec: (b: Uint8Array) => decodePeers(b, L) },
  { name: 'State', arb: state, enc: encodeState, dec: (b: Uint8Array) => decodeState(b, L) },
  { name: 'Data', arb: data, enc: encodeData, dec: (b: Uint8Array) => decodeData(b, L) },
] as const;

/** A decoder may only refuse with a DecodeError (never crash with another error). */
function decodesOrRefuses(dec: (b: Uint8Array) => unknown, b: Uint8Array): boolean {
  try {
    dec(b);
    return true;
  } catch (err) {
    assert.ok(err instanceof DecodeError, `unexpected ${(err as Error)?.stack}`);
    return false;
  }
}

describe('packet codecs: properties', () => {
  for (const c of codecs) {
    it(`${c.name}: decode(encode(x)) = x`, () => {
      fc.assert(
        fc.property(c.arb as fc.Arbitrary<never>, (x) => {
          assert.deepEqual(c.dec(c.enc(x)), structuredClone(x)); // a plain-prototype copy
        }),
      );
    });
    it(`${c.name}: every truncation is refused`, () => {
      fc.assert(
        fc.property(c.arb as fc.Arbitrary<never>, fc.nat(), (x, n) => {
          const b = c.enc(x);
          const cut = b.subarray(0, n % b.length);
          assert.equal(decodesOrRefuses(c.dec, cut), false);
        }),
      );
    });
    it(`${c.name}: trailing bytes are refused`, () => {
      fc.assert(
        fc.property(
          c.arb as fc.Arbitrary<never>,
          fc.uint8Array({ minLength: 1, maxLength: 8 }),
          (x, extra) => {
            const b = c.enc(x);
            const longer = new Uint8Array(b.length + extra.length);
            longer.set(b);
            longer.set(extra, b.length);
            assert.equal(decodesOrRefuses(c.dec, longer), false);
          },
        ),
      );
    });
    it(`${c.name}: bit flips decode or are refused cleanly`, () => {
      fc.assert(
        fc.property(
          c.arb as fc.Arbitrary<never>,
          fc.nat(),
          fc.integer({ min: 0, max: 7 }),
          (x, at, bit) => {
            const b = Uint8Array.from(c.enc(x));
            const i = at % b.length;
            b[i] = (b[i] as number) ^ (1 << bit);
            decodesOrRefuses(c.dec, b);
          },
        ),
      );
    });
    it(`${c.name}: random bytes decode or are refused cleanly`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (b) => void decodesOrRefuses(c.dec, b)),
      );
    });
  }

  it('State: the signed bytes kept at decoding are what signedBytesState builds, or none', () => {
    const ascii = (s: string) => [...s].every((c) => c.charCodeAt(0) < 0x80);
    fc.assert(
      fc.property(state, (x) => {
        const { state: s, signed } = decodeStateAsSigned(encodeState(x), L);
        if (signed) assert.deepEqual(signed, signedBytesState(s));
        // ASCII ID and text (all Python-made text is): kept.
        assert.equal(signed !== null, ascii(x.nodeId) && ascii(x.stateJson));
      }),
    );
    // A byte-order mark before the ID is dropped by the UTF-8 decoder: the
    // bytes as received would not be what the signature is checked over.
    const withBom = Uint8Array.from([
      ...[4, 0, 0, 0, 0xef, 0xbb, 0xbf, 0x61],
      ...new Uint8Array(8),
      ...[64, 0, 0, 0, ...new Uint8Array(64)],
      ...[2, 0, 0, 0, 0x7b, 0x7d],
    ]);
    const bom = decodeStateAsSigned(withBom, L);
    assert.equal(bom.state.nodeId, 'a');
    assert.equal(bom.signed, null);
  });

  it('a length prefix of 4 GB on a short body is refused without allocating', () => {
    const b = new Writer().u32(0xffffffff).raw(new Uint8Array(16)).finish();
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(
      () => new Reader(b).bytes('x', Number.MAX_SAFE_INTEGER),
      /needs 4294967295 bytes/,
    );
    assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024);
    assert.throws(() => decodeData(b, L), DecodeError);
  });

  it('peer counts and key counts over the limits are refused', () => {
    const many = new Writer()
      .string('a')
      .bytes(new Uint8Array(64))
      .u32(L.maxPeers + 1)
      .finish();
    assert.throws(() => decodePeers(many, L), /over the limit/);
    const keys = `{${Array.from({ length: 5 }, (_, i) => `"k${i}": "v"`).join(', ')}}`;
    assert.throws(() => parseStateJson(keys, { maxKeys: 4 }), /more than 4 keys/);
  });
});

describe('python json: properties', () => {
  it('parse(dumps(m)) keeps every key, value and the order', () => {
    fc.assert(
      fc.property(stateMap, (m) => {
        assert.deepEqual([...parseStateJson(pyJsonDumps(m), L)], [...m]);
      }),
    );
  });
  it('the text is ASCII only, as Python ensure_ascii', () => {
    fc.assert(fc.property(stateMap, (m) => assert.match(pyJsonDumps(m), /^[\x20-\x7e]*$/)));
  });
  it('standard JSON readers agree with the text (for well-formed strings)', () => {
    const wellFormed = fc.array(
      fc.tuple(fc.string({ maxLength: 10, unit: 'grapheme' }), fc.string({ unit: 'grapheme' })),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(wellFormed, (entries) => {
        const m = new Map(entries);
        const parsed = JSON.parse(pyJsonDumps(m));
        for (const [k, v] of m) assert.equal(parsed[k], v);
      }),
    );
  });
  it('refuses what a state is not', () => {
    for (const bad of [
      '',
      '[]',
      '{"a": 1}',
      '{"a": "b",}',
      '{"a": "b"} x',
      '{"a": "\\x"}',
      '{"a": "\\u12"}',
      '{"a": "\u0001"}',
      '{a: "b"}',
      '{"a" "b"}',
    ]) {
      assert.throws(() => parseStateJson(bad, L), DecodeError, bad);
    }
  });
  it('a repeated key keeps its first position and its last value, as Python does', () => {
    assert.deepEqual(
      [...parseStateJson('{"a": "1", "b": "2", "a": "3"}', L)],
      [
        ['a', '3'],
        ['b', '2'],
      ],
    );
  });
  it('tells while parsing whether a text is already the Python serialisation', () => {
    // Texts mostly written as Python does, now and then with a way another
    // JSON writer may differ: whitespace, other escapes, raw non-ASCII, a
    // repeated key. The flag must agree with re-serialising the parsed map.
    const usually = (want: string, other: string[]) =>
      fc.oneof({ arbitrary: fc.constant(want), weight: 12 }, fc.constantFrom(...other));
    const none = usually('', [' ', '\t', '\n']);
    const space = usually(' ', ['', '  ', '\n']);
    const char = fc.constantFrom(
      'a',
      'Z',
      '/',
      'é',
      '✓',
      '"',
      '\\',
      '\n',
      '\b',
      '\t',
      '\f',
      '\r',
      '\u0001',
      '\u007f',
      '\ud83d',
    );
    // 0: a \u escape; 1: the same in upper case; 2: \/ or the raw character; else as Python writes it.
    const written = fc.tuple(char, fc.nat(40)).map(([c, how]) => {
      const hex = c.charCodeAt(0).toString(16).padStart(4, '0');
      if (how === 0) return `\\u${hex}`;
      if (how === 1) return `\\u${hex.toUpperCase()}`;
      if (how === 2) return c === '/' ? '\\/' : c;
      return pyString(c).slice(1, -1);
    });
    const quoted = fc.array(written, { maxLength: 4 }).map((cs) => `"${cs.join('')}"`);
    const pair = fc.tuple(quoted, none, space, quoted).map(([k, a, b, v]) => `${k}${a}:${b}${v}`);
    const text = fc
      .tuple(
        fc.array(fc.tuple(space, pair), { maxLength: 4 }),
        none,
        none,
        none,
        none,
        fc.nat(5).map((n) => n === 0),
      )
      .map(([pairs, lead, open, close, tail, repeat]) => {
        const items = pairs.map(([gap, p], i) => (i === 0 ? p : `,${gap}${p}`));
        if (repeat && pairs[0]) items.push(`, ${pairs[0][1]}`);
        return `${lead}{${open}${items.join('')}${close}}${tail}`;
      })
      .filter((t) => {
        try {
          parseStateText(t, L);
          return true;
        } catch {
          return false; // a raw control character or quote: refused, nothing to compare
        }
      });
    let canonicalSeen = 0;
    fc.assert(
      fc.property(text, (t) => {
        const { map, canonical } = parseStateText(t, L);
        assert.equal(canonical, pyJsonDumps(map) === t, t);
        if (canonical) canonicalSeen++;
      }),
      { numRuns: 3000 },
    );
    assert.ok(canonicalSeen > 100, `only ${canonicalSeen} canonical texts generated`);
    fc.assert(fc.property(stateMap, (m) => assert.ok(parseStateText(pyJsonDumps(m), L).canonical)));
  });
  it('accepts any JSON whitespace and the \\/ escape', () => {
    assert.deepEqual([...parseStateJson(' {\n"a" :\t"x\\/y" } ', L)], [['a', 'x/y']]);
  });
});

describe('envelope: properties', () => {
  const env = createEnvelope('000102030405060708090a0b0c0d0e0f');
  it('open(seal(x)) = x with a fresh IV every time', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (x) => {
        const a = env.seal(x);
        const b = env.seal(x);
        assert.notDeepEqual(a.subarray(0, 16), b.subarray(0, 16));
        assert.deepEqual(new Uint8Array(env.open(a)), x);
      }),
    );
  });
  it('is AES-128-CBC with PKCS#7 exactly as node:crypto does it, both ways', () => {
    const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (x, iv) => {
          const c = createCipheriv('aes-128-cbc', key, iv);
          const expected = Buffer.concat([iv, c.update(x), c.final()]);
          assert.deepEqual(Buffer.from(env.seal(x, iv)), expected);
          assert.deepEqual(Buffer.from(env.open(expected)), Buffer.from(x));
        },
      ),
    );
  });
  it('refuses exactly the bodies node:crypto cannot decrypt (bad padding)', () => {
    const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    const openssl = (body: Uint8Array) => {
      try {
        const d = createDecipheriv('aes-128-cbc', key, body.subarray(0, 16));
        return Buffer.concat([d.update(body.subarray(16)), d.final()]);
      } catch {
        return null;
      }
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 6 }),
        fc.uint8Array({ minLength: 96, maxLength: 96 }),
        (n, bytes) => {
          const body = bytes.subarray(0, n * 16);
          let ours: Buffer | null;
          try {
            ours = Buffer.from(env.open(body));
          } catch (err) {
            assert.ok(err instanceof DecodeError);
            ours = null;
          }
          assert.deepEqual(ours, openssl(body));
        },
      ),
      { numRuns: 2000 },
    );
  });
  it('garbage and truncated bodies are refused with one error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (x) => {
        try {
          env.open(x);
        } catch (err) {
          assert.ok(err instanceof DecodeError);
          assert.equal(err.message, 'cannot decrypt');
        }
      }),
    );
  });
  it('a wrong key does not open the body (or yields other bytes)', () => {
    const other = createEnvelope('ffffffffffffffffffffffffffffffff');
    const sealed = env.seal(new TextEncoder().encode('hello world, hello world'));
    let opened: Uint8Array | null = null;
    try {
      opened = other.open(sealed);
    } catch (err) {
      assert.ok(err instanceof DecodeError);
    }
    if (opened) assert.notEqual(Buffer.from(opened).toString(), 'hello world, hello world');
  });
});
