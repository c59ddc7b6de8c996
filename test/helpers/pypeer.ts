import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LOCAL } from './net.js';

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
 * The independent Python peer (test/interop/pypeer.py) as a child process.
 * Its events (`update`, `peer`, `disconnect`, `receive`, `alert`) are re-emitted
 * here with the node ID (and data) as arguments; commands return its reply.
 */
export class PyPeer extends EventEmitter {
  port = 0;
  readonly ready: Promise<void>;
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  readonly stderr: string[] = [];

  constructor(readonly options: PyPeerOptions) {
    super();
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
    this.child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stderr as NodeJS.ReadableStream }).on('line', (l) =>
      this.stderr.push(l),
    );
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) =>
        reject(
          new Error(`pypeer ${o.id} exited with ${code}: ${this.stderr.slice(-5).join('\n')}`),
        ),
      );
      this.once('ready', resolve);
    });
    this.ready.catch(() => {});
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) =>
      this.onLine(line),
    );
  }

  private onLine(line: string): void {
    const msg = JSON.parse(line) as Record<string, unknown>;
    if (typeof msg.reply === 'number') {
      const p = this.pending.get(msg.reply);
      this.pending.delete(msg.reply);
      if (msg.ok) p?.resolve(msg);
      else p?.reject(new Error(String(msg.error)));
      return;
    }
    switch (msg.event) {
      case 'ready':
        this.port = msg.port as number;
        this.emit('ready');
        break;
      case 'receive':
        this.emit('receive', msg.node, Buffer.from(msg.data_hex as string, 'hex'));
        break;
      case 'alert':
        this.emit('alert', msg.message);
        break;
      default:
        this.emit(msg.event as string, msg.node);
    }
  }

  cmd(cmd: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin?.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
    });
  }

  async update(key: string, value: string): Promise<void> {
    await this.cmd('update', { key, value });
  }

  async read(node: string, key: string): Promise<string | null> {
    return (await this.cmd('read', { node, key })).value as string | null;
  }

  async peers(): Promise<string[]> {
    return (await this.cmd('peers')).peers as string[];
  }

  async entries(node: string): Promise<[string, string][] | null> {
    return (await this.cmd('state', { node })).entries as [string, string][] | null;
  }

  async send(node: string, data: Uint8Array): Promise<void> {
    await this.cmd('send', { node, data_hex: Buffer.from(data).toString('hex') });
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** kill -9: no goodbye. */
  kill(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin?.end();
    await exited;
  }
}
