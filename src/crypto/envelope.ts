import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError, DecodeError } from '../errors.js';

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
  open(body: Uint8Array): Uint8Array;
}

const BLOCK = 16;

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
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{32}$/.test(hex)) {
    const got = typeof hex === 'string' ? `${hex.length} characters` : typeof hex;
    throw new ConfigError(field, `must be 32 hex characters (16 bytes), got ${got}`);
  }
  return Buffer.from(hex, 'hex');
}

export function createEnvelope(aesKeyHex: string | null | undefined): Envelope {
  if (aesKeyHex == null) return PLAIN;
  const key = parseAesKey(aesKeyHex);
  // CBC chained here over one long-lived AES block cipher (ECB, no padding)
  // per direction: creating an OpenSSL cipher context per message cost more
  // than the encryption itself (tens of µs, for messages of a few blocks).
  // Checked against node:crypto's aes-128-cbc by test/unit/codec-properties.
  const enc = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  const dec = createDecipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  return {
    encrypted: true,
    seal(plain, iv = freshIv()) {
      const blocks = Math.floor(plain.length / BLOCK) + 1;
      const out = Buffer.allocUnsafe(BLOCK * (blocks + 1));
      out.set(iv, 0);
      const pad = blocks * BLOCK - plain.length; // PKCS#7: 1…16 bytes of value `pad`
      const block = Buffer.allocUnsafe(BLOCK);
      for (let b = 0; b < blocks; b++) {
        const at = b * BLOCK; // this block's plaintext, and the previous ciphertext in `out`
        for (let j = 0; j < BLOCK; j++) {
          const p = at + j < plain.length ? (plain[at + j] as number) : pad;
          block[j] = p ^ (out[at + j] as number);
        }
        out.set(enc.update(block), at + BLOCK);
      }
      return out;
    },
    open(body) {
      if (body.length < 2 * BLOCK || body.length % BLOCK !== 0) {
        throw new DecodeError('DSN_ERR_DECRYPT', 'cannot decrypt');
      }
      const out = dec.update(body.subarray(BLOCK));
      for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) ^ (body[i] as number);
      const pad = out[out.length - 1] as number;
      let bad = pad < 1 || pad > BLOCK ? 1 : 0;
      for (let i = 1; i <= BLOCK; i++) {
        if (i <= pad && out[out.length - i] !== pad) bad = 1;
      }
      if (bad) throw new DecodeError('DSN_ERR_DECRYPT', 'cannot decrypt');
      return out.subarray(0, out.length - pad);
    },
  };
}

const PLAIN: Envelope = {
  encrypted: false,
  seal: (plain) => plain,
  open: (body) => body,
};
