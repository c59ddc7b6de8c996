import * as crypto from 'node:crypto';
import {
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
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
 * Two back ends, both checked against the same vectors: libsecp256k1 through
 * the optional npm `secp256k1` native binding (~8× faster; prebuilt for
 * linux-x64, darwin-arm64, win32-x64), and node:crypto (OpenSSL), which
 * always works (e.g. on a Raspberry Pi without a build toolchain).
 * DSN_CRYPTO=node forces node:crypto.
 */
export interface SigningBackend {
  readonly name: 'libsecp256k1' | 'node:crypto' | 'INSECURE-simulation';
  /** Signs given the SHA-256 of the signed bytes (hashed by the caller, in pieces if it likes). */
  signInner(kp: KeyPair, inner: Uint8Array): Uint8Array;
  verifyInner(pub: PublicKey, inner: Uint8Array, sig: Uint8Array): boolean;
  isValidPoint(pub: PublicKey): boolean;
}

/**
 * One-shot hashing (node:crypto `hash`, Node ≥ 20.12) where there is one: it
 * skips the Hash object, which costs more than hashing a few hundred bytes.
 */
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer })
  .hash;
export function sha(alg: 'sha1' | 'sha256', data: Uint8Array): Buffer {
  return oneShot ? oneShot(alg, data, 'buffer') : createHash(alg).update(data).digest();
}

/** SHA-256 of the signed bytes; the signature is over SHA-1 of this. */
export function inner(msg: Uint8Array): Buffer {
  return sha('sha256', msg);
}

/** The 20-byte digest SHA-1(inner), left-padded to 32 bytes for libsecp256k1 (the same integer). */
function digest32(inner: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  out.set(sha('sha1', inner), 12);
  return out;
}

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');

function jwk(pub: Uint8Array, priv?: Uint8Array) {
  const key = {
    kty: 'EC',
    crv: 'secp256k1',
    x: b64u(pub.subarray(0, 32)),
    y: b64u(pub.subarray(32)),
  };
  return priv ? { ...key, d: b64u(priv) } : key;
}

const publicObjects = new WeakMap<PublicKey, KeyObject>();
const privateObjects = new WeakMap<KeyPair, KeyObject>();

function publicObject(pub: PublicKey): KeyObject {
  let o = publicObjects.get(pub);
  if (!o) {
    o = createPublicKey({ key: jwk(pub.raw), format: 'jwk' });
    publicObjects.set(pub, o);
  }
  return o;
}

export const nodeBackend: SigningBackend = {
  name: 'node:crypto',
  signInner(kp, inner) {
    let o = privateObjects.get(kp);
    if (!o) {
      o = createPrivateKey({ key: jwk(kp.publicKey.raw, kp.privateKey), format: 'jwk' });
      privateObjects.set(kp, o);
    }
    return new Uint8Array(nodeSign('sha1', inner, { key: o, dsaEncoding: 'ieee-p1363' }));
  },
  verifyInner(pub, inner, sig) {
    return nodeVerify('sha1', inner, { key: publicObject(pub), dsaEncoding: 'ieee-p1363' }, sig);
  },
  isValidPoint(pub) {
    try {
      publicObject(pub);
      return true;
    } catch {
      return false;
    }
  },
};

interface NativeBinding {
  ecdsaSign(msg32: Uint8Array, priv: Uint8Array): { signature: Uint8Array };
  ecdsaVerify(sig: Uint8Array, msg32: Uint8Array, pub: Uint8Array): boolean;
  signatureNormalize(sig: Uint8Array): Uint8Array;
  publicKeyVerify(pub: Uint8Array): boolean;
}

function loadNative(): SigningBackend | null {
  let b: NativeBinding;
  try {
    // The binding itself, not the package root: the root falls back to a slow
    // pure-JS implementation, where node:crypto is the better fallback.
    b = createRequire(import.meta.url)('secp256k1/bindings') as NativeBinding;
  } catch {
    return null;
  }
  return {
    name: 'libsecp256k1',
    signInner: (kp, inner) =>
      Uint8Array.from(b.ecdsaSign(digest32(inner), kp.privateKey).signature),
    // libsecp256k1 refuses high-S signatures, which the Python nodes produce
    // half the time: normalise first (a copy; the call works in place).
    verifyInner: (pub, inner, sig) =>
      b.ecdsaVerify(b.signatureNormalize(Uint8Array.from(sig)), digest32(inner), pub.uncompressed),
    isValidPoint: (pub) => b.publicKeyVerify(pub.uncompressed),
  };
}

export const nativeBackend: SigningBackend | null = loadNative();

/** Every back end that works on this machine. */
export const availableBackends: SigningBackend[] = nativeBackend
  ? [nativeBackend, nodeBackend]
  : [nodeBackend];

const defaultBackend: SigningBackend =
  process.env.DSN_CRYPTO === 'node' || !nativeBackend ? nodeBackend : nativeBackend;
let active: SigningBackend = defaultBackend;

/** Which implementation signs and verifies here. */
export let cryptoBackend: SigningBackend['name'] = active.name;

/**
 * ⚠ NOT A SIGNATURE. FOR SIMULATIONS ONLY. ⚠
 *
 * A stand-in for ECDSA so that a simulation of a thousand nodes in one
 * process does not spend minutes of CPU on secp256k1: the "signature" is
 * SHA-256(public key ‖ digest) followed by 32 zero bytes, and verifying
 * recomputes it. Anyone who knows a public key (everyone: it is in every
 * Hello) can forge any message of its owner with it, and every point is
 * accepted as a public key. Nodes using it cannot talk to nodes using real
 * signatures (each side rejects the other's).
 *
 * It is never chosen by configuration or environment: only a call to
 * useSigningBackendForSimulation selects it, and neither that function nor
 * this backend is exported from the package (src/index.ts; the package's
 * `exports` map allows no deep import).
 */
export const insecureSimulationBackend: SigningBackend = Object.freeze({
  name: 'INSECURE-simulation' as const,
  signInner(kp: KeyPair, inner: Uint8Array): Uint8Array {
    return fakeSignature(kp.publicKey, inner);
  },
  verifyInner(pub: PublicKey, inner: Uint8Array, sig: Uint8Array): boolean {
    return Buffer.from(fakeSignature(pub, inner)).equals(sig);
  },
  isValidPoint: () => true,
});

function fakeSignature(pub: PublicKey, inner: Uint8Array): Uint8Array {
  const out = new Uint8Array(64);
  out.set(createHash('sha256').update(pub.raw).update(inner).digest());
  return out;
}

/**
 * ⚠ FOR SIMULATIONS ONLY: switches how EVERY key of this process signs and
 * verifies from then on (pass null to go back to the default back end). With
 * insecureSimulationBackend, signatures protect nothing (see there); it
 * prints a warning once. Meant for a benchmark process that runs nothing
 * but simulated nodes (bench/sim.ts); a program serving a real network must
 * never call it. Not exported from the package.
 */
export function useSigningBackendForSimulation(backend: SigningBackend | null): void {
  active = backend ?? defaultBackend;
  cryptoBackend = active.name;
  if (active === insecureSimulationBackend && !warned) {
    warned = true;
    process.emitWarning(
      'signatures are switched to an INSECURE stand-in for simulations (useSigningBackendForSimulation)',
      { code: 'DSN_INSECURE_SIGNING' },
    );
  }
}
let warned = false;

export class PublicKey {
  readonly raw: Uint8Array;
  /** 0x04 ‖ X ‖ Y, as libsecp256k1 takes it. */
  readonly uncompressed: Uint8Array;

  constructor(raw: Uint8Array) {
    if (raw.length !== 64) throw new DsnError('DSN_ERR_MALFORMED', 'public key must be 64 bytes');
    this.raw = Uint8Array.from(raw);
    this.uncompressed = new Uint8Array(65);
    this.uncompressed[0] = 4;
    this.uncompressed.set(raw, 1);
  }

  /** Whether the 64 bytes are a point on the curve. */
  static isValid(raw: Uint8Array, backend: SigningBackend = active): boolean {
    return raw.length === 64 && backend.isValidPoint(new PublicKey(raw));
  }

  /** True when `sig` (r‖s, high or low S) signs `msg` under this key. */
  verify(msg: Uint8Array, sig: Uint8Array, backend: SigningBackend = active): boolean {
    return this.verifyInner(inner(msg), sig, backend);
  }

  /** As verify, given the SHA-256 of the signed bytes. */
  verifyInner(innerDigest: Uint8Array, sig: Uint8Array, backend: SigningBackend = active): boolean {
    if (sig.length !== 64) return false;
    try {
      return backend.verifyInner(this, innerDigest, sig);
    } catch {
      return false;
    }
  }

  equals(other: PublicKey): boolean {
    return Buffer.from(this.raw).equals(other.raw);
  }

  hex(): string {
    return Buffer.from(this.raw).toString('hex');
  }
}

export class KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: PublicKey;

  constructor(privateKey: Uint8Array) {
    if (privateKey.length !== 32)
      throw new DsnError('DSN_ERR_MALFORMED', 'private key must be 32 bytes');
    this.privateKey = Uint8Array.from(privateKey);
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(this.privateKey); // throws for 0 or a value ≥ the curve order
    this.publicKey = new PublicKey(ecdh.getPublicKey().subarray(1));
  }

  static generate(): KeyPair {
    const ecdh = createECDH('secp256k1');
    ecdh.generateKeys();
    // getPrivateKey() drops leading zero bytes; the protocol wants all 32.
    const raw = new Uint8Array(32);
    const d = ecdh.getPrivateKey();
    raw.set(d, 32 - d.length);
    return new KeyPair(raw);
  }

  sign(msg: Uint8Array, backend: SigningBackend = active): Uint8Array {
    return backend.signInner(this, inner(msg));
  }

  /** As sign, given the SHA-256 of the signed bytes. */
  signInner(innerDigest: Uint8Array, backend: SigningBackend = active): Uint8Array {
    return backend.signInner(this, innerDigest);
  }
}
