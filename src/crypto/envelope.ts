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
  return {
    encrypted: true,
    seal(plain, iv = freshIv()) {
      const c = createCipheriv('aes-128-cbc', key, iv);
      return Buffer.concat([iv, c.update(plain), c.final()]);
    },
    open(body) {
      if (body.length < 2 * BLOCK || body.length % BLOCK !== 0) {
        throw new DecodeError('DSN_ERR_DECRYPT', 'cannot decrypt');
      }
      try {
        const d = createDecipheriv('aes-128-cbc', key, body.subarray(0, BLOCK));
        return Buffer.concat([d.update(body.subarray(BLOCK)), d.final()]);
      } catch {
        throw new DecodeError('DSN_ERR_DECRYPT', 'cannot decrypt');
      }
    },
  };
}

const PLAIN: Envelope = {
  encrypted: false,
  seal: (plain) => plain,
  open: (body) => body,
};
