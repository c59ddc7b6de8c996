/**
 * Bounds on everything a peer can send. The Python reference has none
 * (PROTOCOL.md §8); these keep memory and CPU proportional to real use.
 */
export interface Limits {
  /**
   * Largest HTTP body of an UPDATE or PEERS, in bytes (413 above it, before
   * it is read); HELLO and PING bodies get at most CONTROL_BODY_BYTES.
   */
  maxBodyBytes: number;
  /**
   * Largest DATA payload, in bytes: Language Pipes sends model files in
   * 32 MiB chunks. The body limit of a DATA is this plus its header and
   * the envelope's IV and padding.
   */
  maxDataBytes: number;
  /** Longest node ID, in UTF-8 bytes. */
  maxNodeIdBytes: number;
  /** Longest address string, in UTF-8 bytes. */
  maxAddressBytes: number;
  /** Most keys in one state. */
  maxKeys: number;
  /** Most peers a node keeps, and most entries in one PEERS answer. */
  maxPeers: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxBodyBytes: 4 * 1024 * 1024,
  maxDataBytes: 64 * 1024 * 1024,
  maxNodeIdBytes: 256,
  maxAddressBytes: 256,
  maxKeys: 10_000,
  maxPeers: 1_000,
});

/** Fixed sizes from the protocol: raw secp256k1 keys and r‖s signatures. */
export const PUBLIC_KEY_BYTES = 64;
export const SIGNATURE_BYTES = 64;
export const VERSION_MAX_BYTES = 64;

/** Most bytes of a HELLO or PING body (a Hello is a few hundred bytes). */
export const CONTROL_BODY_BYTES = 64 * 1024;
