import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The Python reference's byte-exact vectors, kept in this repository
 * (test/vectors) so that a clone alone runs every test.
 */
export const VECTORS_PATH = fileURLToPath(
  new URL('../vectors/python-reference-0.9.0.json', import.meta.url),
);

// biome-ignore lint/suspicious/noExplicitAny: the vector file is plain JSON
export const vectors: any = JSON.parse(readFileSync(VECTORS_PATH, 'utf8'));

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
