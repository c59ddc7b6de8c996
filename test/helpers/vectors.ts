import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Python reference's vectors, from ../shared beside the checkout. */
const here = dirname(fileURLToPath(import.meta.url));
export const VECTORS_PATH = join(
  here,
  '..',
  '..',
  '..',
  'shared',
  'vectors',
  'python-reference-0.9.0.json',
);

// biome-ignore lint/suspicious/noExplicitAny: the vector file is plain JSON
export const vectors: any = JSON.parse(readFileSync(VECTORS_PATH, 'utf8'));

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
