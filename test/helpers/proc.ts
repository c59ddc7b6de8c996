import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Timing } from '../../src/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SCRIPT = join(HERE, 'proc-node.ts');
/** The repository root: tsx is resolved from here. */
export const ROOT = join(HERE, '..', '..');

export interface ProcNodeOptions {
  id: string;
  port?: number;
  host?: string;
  key?: string | null;
  /** "host:port" endpoints, tried in order. */
  bootstrap?: string[];
  cred?: string;
  fast?: boolean;
  timing?: Partial<Timing>;
  clockOffsetMs?: number;
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
}

type Entries = [string, string][];

/**
 * A node process (test/helpers/proc-node.ts). Its events are re-emitted here:
 * `update` (node, entries), `peer` (node), `disconnect` (node), `alert`
 * (message), and `exit` (code, signal) when the process ends. Commands return
 * the reply. `kill()` is kill -9: no goodbye, no flush.
 */
export class ProcNode extends EventEmitter {
  port = 0;
  readonly ready: Promise<void>;
  readonly exitedP: Promise<void>;
  readonly stderr: string[] = [];
  /**
   * What this node holds of every peer, mirrored from its events (peer,
   * update, disconnect arrive in order on one pipe): checks can run on every
   * event without asking the process. Its own state is not in here.
   */
  readonly view = new Map<string, Entries>();
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();

  constructor(readonly options: ProcNodeOptions) {
    super();
    this.setMaxListeners(0);
    this.on('peer', (node: string) => {
      if (!this.view.has(node)) this.view.set(node, []);
    });
    this.on('update', (node: string, entries: Entries | null) => {
      if (entries) this.view.set(node, entries);
    });
    this.on('disconnect', (node: string) => this.view.delete(node));
    const o = options;
    const args = [
      '--expose-gc',
      '--import',
      'tsx',
      SCRIPT,
      '--id',
      o.id,
      '--port',
      String(o.port ?? 0),
      '--host',
      o.host ?? '127.0.0.1',
    ];
    if (o.key) args.push('--key', o.key);
    if (o.cred) args.push('--cred', o.cred);
    if (o.fast) args.push('--fast');
    if (o.timing) args.push('--timing', JSON.stringify(o.timing));
    if (o.clockOffsetMs) args.push(`--clock-offset-ms=${o.clockOffsetMs}`);
    for (const b of o.bootstrap ?? []) args.push('--bootstrap', b);
    // `ip netns exec` execs the command: the child's pid is the node's, so kill -9 reaches it.
    const [cmd, argv] = o.netns
      ? ['ip', ['netns', 'exec', o.netns, process.execPath, ...args]]
      : [process.execPath, args];
    this.child = spawn(cmd as string, argv as string[], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdin?.on('error', () => {}); // a killed node's stdin
    createInterface({ input: this.child.stderr as NodeJS.ReadableStream }).on('line', (l) => {
      this.stderr.push(l);
      if (this.stderr.length > 200) this.stderr.shift();
    });
    this.exitedP = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        for (const p of this.pending.values()) p.reject(new Error(`${o.id} exited`));
        this.pending.clear();
        this.emit('exit', code, signal);
        resolve();
      });
    });
    this.ready = new Promise((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`node ${o.id} exited with ${code}: ${this.stderr.slice(-8).join('\n')}`));
      this.once('exit', onExit);
      this.once('fatal', (m: string) => reject(new Error(`node ${o.id} could not start: ${m}`)));
      this.once('ready', () => {
        this.off('exit', onExit);
        resolve();
      });
    });
    this.ready.catch(() => {});
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) =>
      this.onLine(line),
    );
  }

  /** Node IDs this node lists (its own first), from the mirrored events. */
  listed(): string[] {
    return [this.id, ...this.view.keys()];
  }

  /** `key` in `node`'s state as this node holds it (from the mirror). */
  holds(node: string, key: string): string | null {
    return this.view.get(node)?.find(([k]) => k === key)?.[1] ?? null;
  }

  get id(): string {
    return this.options.id;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private onLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.stderr.push(`stdout: ${line}`);
      return;
    }
    if (typeof msg.reply === 'number') {
      const p = this.pending.get(msg.reply);
      this.pending.delete(msg.reply);
      if (msg.ok) p?.resolve(msg);
      else p?.reject(new Error(`${this.id}: ${String(msg.error)}`));
      return;
    }
    switch (msg.event) {
      case 'ready':
        this.port = msg.port as number;
        this.emit('ready');
        break;
      case 'alert':
      case 'fatal':
        this.emit(msg.event, msg.message);
        break;
      case 'update':
        this.emit('update', msg.node, msg.entries);
        break;
      default:
        this.emit(msg.event as string, msg.node);
    }
  }

  cmd(cmd: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`${this.id} has exited`));
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

  async state(node: string): Promise<Entries | null> {
    return (await this.cmd('state', { node })).entries as Entries | null;
  }

  /** Every node's state as this node holds it (its own included). */
  async states(): Promise<Record<string, Entries | null>> {
    return (await this.cmd('states')).states as Record<string, Entries | null>;
  }

  async memory(): Promise<NodeJS.MemoryUsage> {
    return (await this.cmd('stats')).memory as NodeJS.MemoryUsage;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** kill -9. */
  kill(): Promise<void> {
    if (!this.exited) this.child.kill('SIGKILL');
    return this.exitedP;
  }

  /** A clean stop (the node closes its server); kill -9 if it hangs. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.stdin?.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exitedP;
    clearTimeout(t);
  }
}

/** Starts a node process and waits until it has joined (its `ready` event). */
export async function startProc(options: ProcNodeOptions): Promise<ProcNode> {
  const p = new ProcNode(options);
  try {
    await p.ready;
  } catch (err) {
    await p.kill();
    throw err;
  }
  return p;
}
