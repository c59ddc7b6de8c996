import fc from 'fast-check';
import { createEnvelope, type Envelope } from '../../src/crypto/envelope.js';
import { frame, MsgType, PATH_OF } from '../../src/wire/frame.js';

/**
 * Mutations of protocol bodies for the fuzz tests: random bytes, truncation,
 * bit flips, length prefixes that lie (0xFFFFFFFF and friends), trailing
 * garbage, spliced ranges, a type byte that does not match the path, and —
 * with a network key — the same on the ciphertext and bodies sealed with
 * another key. Every mutation is a pure function of the parameters fast-check
 * draws, so a failing case replays from its seed.
 */

export const PATHS = Object.values(PATH_OF);
export const ALL_PATHS = [...PATHS, '/', '/nope', '/hello/', '/HELLO'];

/** A valid packet (payload without the type byte) of a known type. */
export interface Seed {
  name: string;
  type: MsgType;
  payload: Uint8Array;
}

export interface Case {
  kind: string;
  path: string;
  body: Uint8Array;
}

const u32At = (b: Uint8Array, at: number) =>
  new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);

/**
 * Offsets of every u32 length prefix and count in a valid packet — the fields
 * a lying sender would inflate. Walks the layout of PROTOCOL.md §4.
 */
export function lengthFields(type: MsgType, p: Uint8Array): number[] {
  const out: number[] = [];
  let pos = 0;
  const bytes = () => {
    out.push(pos);
    const start = pos + 4;
    pos = start + u32At(p, pos);
    return start;
  };
  switch (type) {
    case MsgType.HELLO:
      bytes(); // version
      bytes(); // node_id
      bytes(); // address
      pos += 4; // port
      bytes(); // public_key
      bytes(); // sig
      bytes(); // detected_address
      break;
    case MsgType.PEERS: {
      bytes(); // node_id
      bytes(); // sig
      out.push(pos); // count
      const n = u32At(p, pos);
      pos += 4;
      for (let i = 0; i < n; i++) {
        bytes(); // peer_id
        const inner = bytes(); // endpoint, itself [address string][u32 port]
        out.push(inner); // endpoint.address length
      }
      break;
    }
    case MsgType.UPDATE:
      bytes(); // node_id
      pos += 8; // last_update
      bytes(); // sig
      bytes(); // state_json
      break;
    case MsgType.DATA:
      bytes();
      bytes();
      bytes();
      break;
    case MsgType.LEAVE:
      bytes(); // node_id
      pos += 8; // at
      bytes(); // sig
      break;
    case MsgType.DIGEST: {
      out.push(pos); // count
      const n = u32At(p, pos);
      pos += 4;
      for (let i = 0; i < n; i++) {
        bytes(); // node_id
        pos += 8; // last_update
      }
      break;
    }
    case MsgType.RELAY: {
      for (let list = 0; list < 2; list++) {
        out.push(pos); // count of states, then of wanted IDs
        const n = u32At(p, pos);
        pos += 4;
        for (let i = 0; i < n; i++) bytes();
      }
      break;
    }
    case MsgType.PROBE:
      bytes(); // target
      break;
    case MsgType.PING:
    case MsgType.SUMMARY:
      break;
  }
  return out;
}

/** Values a lying length prefix takes: huge, sign-bit, off by one, random. */
export const LIES = [0xffffffff, 0xfffffffe, 0x80000000, 0x7fffffff, 0x10000000, 0x01000001];

function lieValue(original: number, pick: number, random: number): number {
  const choices = [...LIES, original + 1, Math.max(0, original - 1), random >>> 0, 0];
  let v = choices[pick % choices.length] as number;
  if (v === original) v = (original ^ 0x80000000) >>> 0;
  return v >>> 0;
}

export function withLengthLie(
  type: MsgType,
  payload: Uint8Array,
  field: number,
  pick: number,
  random: number,
): Uint8Array | null {
  const fields = lengthFields(type, payload);
  if (fields.length === 0) return null;
  const at = fields[field % fields.length] as number;
  const out = Uint8Array.from(payload);
  const v = lieValue(u32At(payload, at), pick, random);
  new DataView(out.buffer).setUint32(at, v, true);
  return out;
}

/** Flips the given bits; always returns bytes that differ from `b` (b non-empty). */
export function withFlips(b: Uint8Array, flips: [number, number][]): Uint8Array {
  const out = Uint8Array.from(b);
  for (const [at, bit] of flips)
    out[at % out.length] = (out[at % out.length] as number) ^ (1 << bit);
  if (equal(out, b)) out[0] = (out[0] as number) ^ 0x40;
  return out;
}

export function truncated(b: Uint8Array, n: number): Uint8Array {
  return b.subarray(0, n % b.length);
}

export function withTrailing(b: Uint8Array, extra: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length + extra.length);
  out.set(b);
  out.set(extra, b.length);
  return out;
}

/** Replaces `b[at .. at+len)` with `junk` (lengths may differ); never returns `b` itself. */
export function spliced(b: Uint8Array, at: number, len: number, junk: Uint8Array): Uint8Array {
  const i = at % (b.length + 1);
  const j = Math.min(b.length, i + (len % 32));
  const out = new Uint8Array(b.length - (j - i) + junk.length);
  out.set(b.subarray(0, i));
  out.set(junk, i);
  out.set(b.subarray(j), i + junk.length);
  return equal(out, b) ? withTrailing(out, new Uint8Array([0])) : out;
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

const flipsArb = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), {
  minLength: 1,
  maxLength: 4,
});
const junk = fc.uint8Array({ maxLength: 24 });

/**
 * Payload-level mutations of one seed (or of none: plain random bytes).
 * Returns the mutated payload, the type byte to put in front, and the path.
 */
export function payloadMutations(seeds: Seed[]): fc.Arbitrary<{
  kind: string;
  type: number;
  path: string;
  payload: Uint8Array;
}> {
  const seed = fc.constantFrom(...seeds);
  const same = (s: Seed) => PATH_OF[s.type];
  // Seeds with length prefixes to lie in (not a PING's or a summary's fixed bytes).
  const prefixed = seeds.filter((s) => lengthFields(s.type, s.payload).length > 0);
  return fc.oneof(
    fc
      .record({ path: fc.constantFrom(...PATHS), payload: fc.uint8Array({ maxLength: 400 }) })
      .map(({ path, payload }) => ({
        kind: 'random payload',
        type: PATHS.indexOf(path) + 1,
        path,
        payload,
      })),
    fc.tuple(seed, fc.nat()).map(([s, n]) => ({
      kind: `truncated ${s.name}`,
      type: s.type,
      path: same(s),
      payload: truncated(s.payload, n),
    })),
    fc.tuple(seed, flipsArb).map(([s, f]) => ({
      kind: `bit-flipped ${s.name}`,
      type: s.type,
      path: same(s),
      payload: withFlips(s.payload, f),
    })),
    ...(prefixed.length === 0
      ? []
      : [
          fc
            .tuple(fc.constantFrom(...prefixed), fc.nat(), fc.nat(), fc.nat())
            .map(([s, field, pick, r]) => ({
              kind: `length-lying ${s.name}`,
              type: s.type,
              path: same(s),
              payload: withLengthLie(s.type, s.payload, field, pick, r) as Uint8Array,
            })),
        ]),
    fc.tuple(seed, fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([s, extra]) => ({
      kind: `trailing ${s.name}`,
      type: s.type,
      path: same(s),
      payload: withTrailing(s.payload, extra),
    })),
    fc.tuple(seed, fc.nat(), fc.nat(), junk).map(([s, at, len, j]) => ({
      kind: `spliced ${s.name}`,
      type: s.type,
      path: same(s),
      payload: spliced(s.payload, at, len, j),
    })),
    fc
      .tuple(seed, fc.constantFrom(...PATHS))
      .filter(([s, p]) => p !== same(s))
      .map(([s, path]) => ({
        kind: `${s.name} on ${path}`,
        type: s.type,
        path,
        payload: s.payload,
      })),
  );
}

/**
 * Whole request bodies for a node with envelope `env` (plain or encrypted):
 * payload mutations framed (and sealed with the right key, so they reach the
 * decoders), raw random bodies, and — encrypted — ciphertext mutations and
 * bodies sealed with a wrong key.
 */
export function bodies(seeds: Seed[], aesKey: string | null): fc.Arbitrary<Case> {
  const env = createEnvelope(aesKey);
  const iv = fc.uint8Array({ minLength: 16, maxLength: 16 });
  const sealed = fc
    .tuple(payloadMutations(seeds), iv)
    .map(([m, v]): Case => ({ kind: m.kind, path: m.path, body: seal(env, m.type, m.payload, v) }));
  const raw = fc
    .record({ path: fc.constantFrom(...ALL_PATHS), body: fc.uint8Array({ maxLength: 600 }) })
    .map(({ path, body }): Case => ({ kind: 'random body', path, body }));
  if (!aesKey) return fc.oneof({ arbitrary: sealed, weight: 4 }, { arbitrary: raw, weight: 1 });

  const seed = fc.constantFrom(...seeds);
  const wrong = createEnvelope('0f'.repeat(16));
  const cipher = fc.oneof(
    fc.tuple(seed, iv, flipsArb).map(([s, v, f]) => ({
      kind: `ciphertext bit-flipped ${s.name}`,
      path: PATH_OF[s.type],
      body: withFlips(seal(env, s.type, s.payload, v), f),
    })),
    fc.tuple(seed, iv, fc.nat()).map(([s, v, n]) => ({
      kind: `ciphertext truncated ${s.name}`,
      path: PATH_OF[s.type],
      body: truncated(seal(env, s.type, s.payload, v), n),
    })),
    fc.tuple(seed, iv, fc.nat(), fc.nat(), junk).map(([s, v, at, len, j]) => ({
      kind: `ciphertext spliced ${s.name}`,
      path: PATH_OF[s.type],
      body: spliced(seal(env, s.type, s.payload, v), at, len, j),
    })),
    fc.tuple(seed, iv).map(([s, v]) => ({
      kind: `${s.name} under a wrong key`,
      path: PATH_OF[s.type],
      body: seal(wrong, s.type, s.payload, v),
    })),
    fc
      .record({
        path: fc.constantFrom(...PATHS),
        blocks: fc.integer({ min: 2, max: 12 }),
        fill: fc.uint8Array({ minLength: 192, maxLength: 192 }),
      })
      .map(({ path, blocks, fill }) => ({
        kind: 'random whole blocks',
        path,
        body: fill.subarray(0, blocks * 16),
      })),
  );
  return fc.oneof(
    { arbitrary: sealed, weight: 5 },
    { arbitrary: cipher, weight: 3 },
    { arbitrary: raw, weight: 1 },
  );
}

export function seal(env: Envelope, type: number, payload: Uint8Array, iv: Uint8Array): Uint8Array {
  return env.seal(frame(type as MsgType, payload), iv);
}
