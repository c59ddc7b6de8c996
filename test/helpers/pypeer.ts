import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonLinesNode } from './json-lines.js';
import { LOCAL, untilAsync } from './net.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'interop', 'pypeer.py');
export const PYTHON = '/usr/bin/python3';

/** Why the Python peer cannot run here, or null when it can. */
export function pythonUnavailable(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import cryptography'], { encoding: 'utf8' });
  return r.status === 0
    ? null
    : `${PYTHON} with the cryptography package is needed (apt-get install python3-cryptography)`;
}

export interface PyPeerOptions {
  id: string;
  key?: string | null;
  bootstrap?: number[];
  whitelist?: string[];
  tick?: number;
  version?: string;
  cred?: string;
}

/**
 * The independent Python peer (test/interop/pypeer.py) as a child process;
 * events and commands as JsonLinesNode describes.
 */
export class PyPeer extends JsonLinesNode {
  constructor(readonly options: PyPeerOptions) {
    const o = options;
    const args = [
      SCRIPT,
      '--id',
      o.id,
      '--port',
      '0',
      '--host',
      LOCAL,
      '--tick',
      String(o.tick ?? 0.5),
    ];
    if (o.key) args.push('--key', o.key);
    if (o.cred) args.push('--cred', o.cred);
    if (o.whitelist) args.push('--whitelist', o.whitelist.join(','));
    if (o.version) args.push('--version', o.version);
    for (const p of o.bootstrap ?? []) args.push('--bootstrap', `${LOCAL}:${p}`);
    super(o.id, PYTHON, args);
  }

  async send(node: string, data: Uint8Array): Promise<void> {
    await this.cmd('send', { node, data_hex: Buffer.from(data).toString('hex') });
  }

  /** Sends `unit` repeated to `size` bytes (see repeated()): big payloads without hex on stdin. */
  async sendRepeated(node: string, unit: Uint8Array, size: number): Promise<void> {
    await this.cmd('send', { node, repeat_hex: Buffer.from(unit).toString('hex'), size });
  }
}

/** `unit` repeated to `size` bytes, as PyPeer.sendRepeated makes them. */
export function repeated(unit: Uint8Array, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let at = 0; at < size; at += unit.length) out.set(unit.subarray(0, size - at), at);
  return out;
}

/** Resolves once `check()` holds for the Python peer, asking again after each of its `update` and `peer` events. */
export function pyUntil(
  p: PyPeer,
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  return untilAsync(p, ['update', 'peer'], check, what, timeoutMs);
}
