import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';

type Entries = [string, string][];
type Reply = Record<string, unknown>;

/**
 * A node in a child process that speaks JSON lines: events on stdout
 * (`{"event": …}`), commands on stdin (`{"id": n, "cmd": …}`) answered by
 * `{"reply": n, "ok": …}`. Used for the Python test peer and for TypeScript
 * node processes. Events are re-emitted here: `ready`, `update` (node,
 * entries if sent), `peer`, `disconnect` (node), `receive` (node, data or null
 * when large, { size, sha256 }),
 * `alert` and `fatal` (message), and `exit` (code, signal) when the process
 * ends. `kill()` is kill -9: no goodbye, no flush.
 */
export class JsonLinesNode extends EventEmitter {
  port = 0;
  readonly ready: Promise<void>;
  readonly exitedP: Promise<void>;
  readonly stderr: string[] = [];
  protected readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: Reply) => void; reject: (e: Error) => void }
  >();

  constructor(
    readonly id: string,
    command: string,
    args: string[],
    cwd?: string,
  ) {
    super();
    this.setMaxListeners(0);
    this.child = spawn(command, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin?.on('error', () => {}); // a killed node's stdin
    createInterface({ input: this.child.stderr as NodeJS.ReadableStream }).on('line', (l) => {
      this.stderr.push(l);
      if (this.stderr.length > 200) this.stderr.shift();
    });
    this.exitedP = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        for (const p of this.pending.values()) p.reject(new Error(`${id} exited`));
        this.pending.clear();
        this.emit('exit', code, signal);
        resolve();
      });
    });
    this.ready = new Promise((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`node ${id} exited with ${code}: ${this.stderr.slice(-8).join('\n')}`));
      this.once('exit', onExit);
      this.once('fatal', (m: string) => reject(new Error(`node ${id} could not start: ${m}`)));
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

  get pid(): number | undefined {
    return this.child.pid;
  }

  private onLine(line: string): void {
    let msg: Reply;
    try {
      msg = JSON.parse(line) as Reply;
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
      case 'receive':
        // Big payloads come as size and SHA-256 only (data null).
        this.emit(
          'receive',
          msg.node,
          typeof msg.data_hex === 'string' ? Buffer.from(msg.data_hex, 'hex') : null,
          { size: msg.size, sha256: msg.sha256 },
        );
        break;
      case 'update':
        this.emit('update', msg.node, msg.entries as Entries | undefined);
        break;
      default:
        this.emit(msg.event as string, msg.node);
    }
  }

  cmd(cmd: string, args: Record<string, unknown> = {}): Promise<Reply> {
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

  /** A node's state as this node holds it, in key order (null: unknown node). */
  async state(node: string): Promise<Entries | null> {
    return (await this.cmd('state', { node })).entries as Entries | null;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** kill -9. */
  kill(): Promise<void> {
    if (!this.exited) this.child.kill('SIGKILL');
    return this.exitedP;
  }

  /** A clean stop (stdin closed: the node shuts down); kill -9 if it hangs. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.stdin?.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exitedP;
    clearTimeout(t);
  }
}
