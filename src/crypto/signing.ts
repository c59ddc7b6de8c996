import {
  type KeyObject,
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { createRequire } from 'node:module';
import { DsnError } from '../errors.js';

/**
 * secp256k1 ECDSA as protocol 0.9.0 uses it (PROTOCOL.md §5): private key a
 * raw 32-byte scalar, public key raw 64-byte X‖Y, signature raw 64-byte r‖s
 * over the digest SHA-1(SHA-256(signed bytes)). High-S signatures are valid.
 *
 * Two back ends: libsecp256k1 through the optional npm `secp256k1` native
 * binding (~8× faster), and node:crypto (OpenSSL), which always works. Both
 * pass the same vectors; DSN_CRYPTO=node forces the second.
 */

interface Native {
  ecdsaSign(msg32: Uint8Array, priv: Uint8Array): { signature: Uint8Array };
  ecdsaVerify(sig: Uint8Array, msg32: Uint8Array, pub: Uint8Array): boolean;
  signatureNormalize(sig: Uint8Array): Uint8Array;
  publicKeyVerify(pub: Uint8Array): boolean;
}

function loadNative(): Native | null {
  if (process.env.DSN_CRYPTO === 'node') return null;
  try {
    // The binding itself, not the package root: that falls back to a slow
    // pure-JS implementation, where node:crypto is the better fallback.
    return createRequire(import.meta.url)('secp256k1/bindings') as Native;
  } catch {
    return null;
  }
}

const native = loadNative();

/** Which implementation signs and verifies: 'libsecp256k1' or 'node:crypto'. */
export const cryptoBackend: 'libsecp256k1' | 'node:crypto' = native ? 'libsecp256k1' : 'node:crypto';

/** SHA-256 of the signed bytes; the signature is over SHA-1 of this. */
function inner(msg: Uint8Array): Buffer {
  return createHash('sha256').update(msg).digest();
}

/** The 20-byte digest, left-padded to 32 bytes for libsecp256k1 (same integer). */
function digest32(msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  out.set(createHash('sha1').update(inner(msg)).digest(), 12);
  return out;
}

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');

export class PublicKey {
  readonly raw: Uint8Array;
  private keyObject: KeyObject | undefined;
  private readonly uncompressed: Uint8Array;

  constructor(raw: Uint8Array) {
    if (raw.length !== 64) throw new DsnError('DSN_ERR_MALFORMED', 'public key must be 64 bytes');
    this.raw = Uint8Array.from(raw);
    this.uncompressed = new Uint8Array(65);
    this.uncompressed[0] = 4;
    this.uncompressed.set(raw, 1);
  }

  /** Whether the 64 bytes are a point on the curve. */
  static isValid(raw: Uint8Array): boolean {
    if (raw.length !== 64) return false;
    const k = new PublicKey(raw);
    if (native) return native.publicKeyVerify(k.uncompressed);
    try {
      k.object();
      return true;
    } catch {
      return false;
    }
  }

  private object(): KeyObject {
    this.keyObject ??= createPublicKey({
      key: { kty: 'EC', crv: 'secp256k1', x: b64u(this.raw.subarray(0, 32)), y: b64u(this.raw.subarray(32)) },
      format: 'jwk',
    });
    return this.keyObject;
  }

  /** True when `sig` (r‖s, high or low S) signs `msg` under this key. */
  verify(msg: Uint8Array, sig: Uint8Array): boolean {
    if (sig.length !== 64) return false;
    try {
      if (native) {
        const normalized = native.signatureNormalize(Uint8Array.from(sig));
        return native.ecdsaVerify(normalized, digest32(msg), this.uncompressed);
      }
      return nodeVerify('sha1', inner(msg), { key: this.object(), dsaEncoding: 'ieee-p1363' }, sig);
    } catch {
      return false;
    }
  }

  equals(other: PublicKey | Uint8Array): boolean {
    const o = other instanceof PublicKey ? other.raw : other;
    return Buffer.from(this.raw).equals(o);
  }

  hex(): string {
    return Buffer.from(this.raw).toString('hex');
  }
}

export class KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: PublicKey;
  private readonly keyObject: KeyObject | undefined;

  constructor(privateKey: Uint8Array) {
    if (privateKey.length !== 32) {
      throw new DsnError('DSN_ERR_MALFORMED', 'private key must be 32 bytes');
    }
    this.privateKey = Uint8Array.from(privateKey);
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(this.privateKey); // throws for 0 or ≥ the curve order
    const pub = ecdh.getPublicKey().subarray(1);
    this.publicKey = new PublicKey(pub);
    this.keyObject = native
      ? undefined
      : createPrivateKey({
          key: {
            kty: 'EC',
            crv: 'secp256k1',
            d: b64u(this.privateKey),
            x: b64u(pub.subarray(0, 32)),
            y: b64u(pub.subarray(32)),
          },
          format: 'jwk',
        });
  }

  static generate(): KeyPair {
    const ecdh = createECDH('secp256k1');
    ecdh.generateKeys();
    return new KeyPair(ecdh.getPrivateKey());
  }

  sign(msg: Uint8Array): Uint8Array {
    if (native) return Uint8Array.from(native.ecdsaSign(digest32(msg), this.privateKey).signature);
    return new Uint8Array(
      nodeSign('sha1', inner(msg), { key: this.keyObject as KeyObject, dsaEncoding: 'ieee-p1363' }),
    );
  }
}
