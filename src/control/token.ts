import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileNameOf } from '../crypto/credentials.js';

/**
 * The control API's write token lives beside the node's keys:
 * `<credentialDir>/<nodeId>/api-token` (the node's folder, named as the key
 * files name it). The name has no dot, so it can never be a node's key file
 * (`<id>.key`, `<id>.pub`, `<id>.clock`). Mode 0600, a new one at every start.
 */
export const TOKEN_FILE_NAME = 'api-token';

export function tokenFile(credentialDir: string, nodeId: string): string {
  return join(credentialDir, fileNameOf(nodeId), TOKEN_FILE_NAME);
}

/** 32 random bytes, base64url (43 characters): no character a shell or a header needs quoted. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Writes the token readable by its owner only (0600, folder 0700), replacing any old one whole. */
export async function writeTokenFile(file: string, token: string): Promise<void> {
  const dir = join(file, '..');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    // The mode of open() applies only to a new file: a left-over one is fixed here.
    await fh.chmod(0o600);
    await fh.writeFile(`${token}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await chmod(file, 0o600);
}

/** The token in `file`, without the line break. */
export async function readTokenFile(file: string): Promise<string> {
  return (await readFile(file, 'utf8')).trim();
}

/** Removes the token file if it still holds `token` (another start may have replaced it). */
export async function removeTokenFile(file: string, token: string): Promise<void> {
  try {
    if ((await readTokenFile(file)) === token) await unlink(file);
  } catch {
    // (gone already, or unreadable: nothing to tidy)
  }
}

/** Compares in constant time (hashes first, so lengths do not show either). */
export function tokenMatches(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}
