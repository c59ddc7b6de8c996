import { mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { DsnError } from '../errors.js';
import { KeyPair, PublicKey } from './signing.js';

/**
 * Keys on disk in the Python layout (PROTOCOL.md §5):
 *   <credentialDir>/<ownId>/<ownId>.key   raw 32-byte private key
 *   <credentialDir>/<ownId>/<ownId>.pub   raw 64-byte public key
 *   <credentialDir>/<ownId>/<peerId>.pub  trusted-on-first-use peer keys
 * plus `<ownId>.clock`, our own addition (the Python nodes ignore it): the
 * highest `last_update` this identity may have used, so that a restart never
 * goes back in time even when the wall clock did.
 *
 * A node ID that is not a plain file name (anything but letters, digits,
 * `.`, `_`, `-`, or one starting with `.`) is stored as `~` + hex of its
 * UTF-8: an ID can never reach outside the folder. Plain IDs keep the Python
 * names, so a folder can be shared with a Python node of the same ID.
 *
 * All I/O is asynchronous and happens at start-up or once per new peer, never
 * per message.
 */
export interface CredentialStore {
  readonly keyPair: KeyPair;
  /** Public keys of peers seen before (trust on first use). */
  readonly known: Map<string, PublicKey>;
  /** Stores a newly trusted peer key; resolves once written. */
  remember(nodeId: string, key: PublicKey): Promise<void>;
  /** Highest last_update persisted for this identity (0 if none). */
  readonly clockCeiling: number;
  /** Persist a new ceiling for last_update. */
  saveClockCeiling(ceiling: number): Promise<void>;
  /** Where the stored key of a peer lives (null: kept in memory only); operators delete it to trust a new key. */
  peerKeyFile(nodeId: string): string | null;
  /** Where this node's own private key lives (null: in memory only, a new one each start). */
  readonly ownKeyFile: string | null;
}

const SAFE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

export function fileNameOf(nodeId: string): string {
  return SAFE.test(nodeId) ? nodeId : `~${Buffer.from(nodeId, 'utf8').toString('hex')}`;
}

export function nodeIdOfFileName(name: string): string | null {
  if (SAFE.test(name)) return name;
  if (/^~(?:[0-9a-f]{2})+$/.test(name)) return Buffer.from(name.slice(1), 'hex').toString('utf8');
  return null;
}

export async function openCredentialStore(
  credentialDir: string | null,
  ownId: string,
): Promise<CredentialStore> {
  if (credentialDir === null) return memoryStore(KeyPair.generate());
  const dir = join(credentialDir, fileNameOf(ownId));
  const own = fileNameOf(ownId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyPair = await loadOrCreateKeyPair(dir, own);
  const known = new Map<string, PublicKey>();
  for (const entry of await readdir(dir)) {
    if (!entry.endsWith('.pub')) continue;
    const id = nodeIdOfFileName(entry.slice(0, -4));
    if (id === null || id === ownId) continue;
    const raw = await readFile(join(dir, entry));
    if (PublicKey.isValid(raw)) known.set(id, new PublicKey(raw));
  }
  const clockFile = join(dir, `${own}.clock`);
  const peerKeyFile = (nodeId: string) => join(dir, `${fileNameOf(nodeId)}.pub`);
  const ceiling = Number((await readFile(clockFile, 'utf8').catch(() => '0')).trim());
  return {
    keyPair,
    known,
    clockCeiling: Number.isFinite(ceiling) ? ceiling : 0,
    peerKeyFile,
    ownKeyFile: join(dir, `${own}.key`),
    async remember(nodeId, key) {
      known.set(nodeId, key);
      await atomicWrite(peerKeyFile(nodeId), key.raw);
    },
    async saveClockCeiling(c) {
      await atomicWrite(clockFile, String(c));
    },
  };
}

async function loadOrCreateKeyPair(dir: string, own: string): Promise<KeyPair> {
  const keyFile = join(dir, `${own}.key`);
  const existing = await readFile(keyFile).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (existing) {
    try {
      return new KeyPair(existing);
    } catch (err) {
      throw new DsnError('DSN_ERR_CONFIG', `${keyFile} does not hold a 32-byte secp256k1 key`, {
        cause: err,
      });
    }
  }
  const kp = KeyPair.generate();
  await atomicWrite(keyFile, kp.privateKey, 0o600);
  await atomicWrite(join(dir, `${own}.pub`), kp.publicKey.raw);
  return kp;
}

let tmpCounter = 0;
/** Write to a temporary file, fsync it, rename it over the target: a crash leaves the old or the new file, never half of one. */
async function atomicWrite(file: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
  const tmp = `${file}.${process.pid}.${tmpCounter++}.tmp`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

function memoryStore(keyPair: KeyPair): CredentialStore {
  const known = new Map<string, PublicKey>();
  return {
    keyPair,
    known,
    clockCeiling: 0,
    peerKeyFile: () => null,
    ownKeyFile: null,
    async remember(nodeId, key) {
      known.set(nodeId, key);
    },
    async saveClockCeiling() {},
  };
}
