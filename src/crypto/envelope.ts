import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError, DecodeError } from '../errors.js';
import type { BodySink, ChunkedBody } from '../wire/body.js';
import { describeBadKey } from './key-text.js';

/**
 * The AES envelope (PROTOCOL.md §2): IV (16 random bytes, new for every
 * message) ‖ AES-128-CBC(key, IV, PKCS#7(plaintext)). Without a key, bodies
 * travel as they are. CBC has no MAC: a decrypt failure must never be told
 * apart from other pre-authentication failures (the server answers all of
 * them alike).
 */
export interface Envelope {
  readonly encrypted: boolean;
  seal(plain: Uint8Array, iv?: Uint8Array): Uint8Array;
  /**
   * The plaintext `parts` (one after the other) sealed as one body, made
   * slice by slice when the body is written: no copy of the parts, no
   * buffer of the whole body.
   */
  sealParts(parts: readonly Uint8Array[], iv?: Uint8Array): ChunkedBody;
  open(body: Uint8Array): Uint8Array;
  /**
   * Opens a body of `length` bytes as it arrives. `onPlain(plain, upTo)` is
   * told each time more plaintext is ready (`plain` is the final buffer,
   * valid up to `upTo`; its last block only once `finish` checked the
   * padding). `finish` returns the plaintext (a view of that buffer).
   */
  opener(length: number, onPlain?: (plain: Buffer, upTo: number) => void): BodySink;
}

const BLOCK = 16;
/**
 * Bodies below this many bytes are opened by hand over one long-lived
 * AES-ECB context (a CBC context per message costs more than a few blocks);
 * larger ones, and every seal, get one OpenSSL CBC context per message,
 * which wins there (`node --import tsx bench/envelope.ts`).
 */
const SMALL_OPEN = 1024;
/** Plaintext encrypted per slice of a chunked body. */
const SLICE = 512 * 1024;

// IVs come from a pool of CSPRNG bytes refilled 4 KiB at a time: one
// getrandom call per 256 messages instead of one per message.
let pool = Buffer.alloc(0);
let poolAt = 0;
function freshIv(): Buffer {
  if (poolAt + BLOCK > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const iv = pool.subarray(poolAt, poolAt + BLOCK);
  poolAt += BLOCK;
  return iv;
}

export function parseAesKey(hex: string, field = 'aesKey'): Buffer {
  if (typeof hex !== 'string') {
    throw new ConfigError(field, `must be 32 hex characters (16 bytes), got ${typeof hex}`);
  }
  const problem = describeBadKey(hex);
  if (problem !== '') throw new ConfigError(field, problem);
  return Buffer.from(hex, 'hex');
}

/** Sealed size of `n` plaintext bytes: IV and PKCS#7 padding (1…16 bytes). */
export function sealedLength(n: number): number {
  return BLOCK + (Math.floor(n / BLOCK) + 1) * BLOCK;
}

const undecryptable = () => new DecodeError('DSN_ERR_DECRYPT', 'cannot decrypt');

export function createEnvelope(aesKeyHex: string | null | undefined): Envelope {
  if (aesKeyHex == null) return PLAIN;
  const key = parseAesKey(aesKeyHex);
  // Small bodies are opened by CBC chained here over one long-lived AES
  // block cipher (ECB, no padding). Checked against node:crypto's
  // aes-128-cbc by test/unit/codec-properties.
  const dec = createDecipheriv('aes-128-ecb', key, null).setAutoPadding(false);

  function openSmall(body: Uint8Array): Uint8Array {
    const out = dec.update(body.subarray(BLOCK));
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) ^ (body[i] as number);
    const pad = out[out.length - 1] as number;
    let bad = pad < 1 || pad > BLOCK ? 1 : 0;
    for (let i = 1; i <= BLOCK; i++) {
      if (i <= pad && out[out.length - i] !== pad) bad = 1;
    }
    if (bad) throw undecryptable();
    return out.subarray(0, out.length - pad);
  }

  const sealParts = (parts: readonly Uint8Array[], iv: Uint8Array = freshIv()): ChunkedBody => {
    const ivCopy = Buffer.from(iv); // the pool's bytes are reused
    const plainLength = parts.reduce((n, p) => n + p.length, 0);
    return {
      length: sealedLength(plainLength),
      *chunks() {
        const c = createCipheriv('aes-128-cbc', key, ivCopy);
        yield ivCopy;
        for (const part of parts) {
          for (let at = 0; at < part.length; at += SLICE) {
            const out = c.update(part.subarray(at, at + SLICE));
            if (out.length > 0) yield out;
          }
        }
        yield c.final();
      },
    };
  };

  return {
    encrypted: true,
    seal(plain, iv = freshIv()) {
      const c = createCipheriv('aes-128-cbc', key, iv);
      const out = Buffer.allocUnsafe(sealedLength(plain.length));
      out.set(iv, 0);
      const head = c.update(plain);
      out.set(head, BLOCK);
      out.set(c.final(), BLOCK + head.length);
      return out;
    },
    sealParts,
    open(body) {
      if (body.length < 2 * BLOCK || body.length % BLOCK !== 0) throw undecryptable();
      if (body.length < SMALL_OPEN) return openSmall(body);
      const d = createDecipheriv('aes-128-cbc', key, body.subarray(0, BLOCK));
      try {
        const head = d.update(body.subarray(BLOCK));
        const tail = d.final();
        if (tail.length === 0) return head;
        // (update holds back the last block: it lands in `tail`)
        const out = Buffer.allocUnsafe(head.length + tail.length);
        out.set(head, 0);
        out.set(tail, head.length);
        return out;
      } catch {
        throw undecryptable();
      }
    },
    opener(length, onPlain) {
      if (length < 2 * BLOCK || length % BLOCK !== 0) throw undecryptable();
      const plain = Buffer.allocUnsafe(length - BLOCK);
      const iv = Buffer.allocUnsafe(BLOCK);
      let ivAt = 0;
      let at = 0;
      let d: ReturnType<typeof createDecipheriv> | null = null;
      const put = (b: Buffer) => {
        if (b.length === 0) return;
        plain.set(b, at);
        at += b.length;
        onPlain?.(plain, at);
      };
      return {
        push(chunk) {
          let rest = chunk;
          if (ivAt < BLOCK) {
            const n = Math.min(BLOCK - ivAt, rest.length);
            iv.set(rest.subarray(0, n), ivAt);
            ivAt += n;
            rest = rest.subarray(n);
            if (ivAt < BLOCK) return;
            d = createDecipheriv('aes-128-cbc', key, iv);
          }
          if (rest.length > 0) put((d as NonNullable<typeof d>).update(rest));
        },
        finish() {
          if (!d) throw undecryptable();
          try {
            put(d.final());
          } catch {
            throw undecryptable();
          }
          return plain.subarray(0, at);
        },
      };
    },
  };
}

const PLAIN: Envelope = {
  encrypted: false,
  seal: (plain) => plain,
  sealParts: (parts) => ({
    length: parts.reduce((n, p) => n + p.length, 0),
    chunks: () => parts,
  }),
  open: (body) => body,
  opener(length, onPlain) {
    const plain = Buffer.allocUnsafe(length);
    let at = 0;
    return {
      push(chunk) {
        plain.set(chunk, at);
        at += chunk.length;
        onPlain?.(plain, at);
      },
      finish: () => plain.subarray(0, at),
    };
  },
};
