/**
 * Bounds on everything a peer can send. The Python reference has none
 * (PROTOCOL.md §8); these keep memory and CPU proportional to real use.
 */
export interface Limits {
  /** Largest HTTP body accepted, in bytes (413 above it). */
  maxBodyBytes: number;
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
  maxBodyBytes: 16 * 1024 * 1024,
  maxNodeIdBytes: 256,
  maxAddressBytes: 256,
  maxKeys: 10_000,
  maxPeers: 1_000,
});

/** Fixed sizes from the protocol: raw secp256k1 keys and r‖s signatures. */
export const PUBLIC_KEY_BYTES = 64;
export const SIGNATURE_BYTES = 64;
export const VERSION_MAX_BYTES = 64;
