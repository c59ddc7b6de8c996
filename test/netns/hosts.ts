import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { JsonLinesNode } from '../helpers/json-lines.js';
import { ROOT } from '../helpers/proc.js';
import { PYTHON } from '../helpers/pypeer.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PYPEER = join(HERE, '..', 'interop', 'pypeer.py');
const CLI = join(ROOT, 'src', 'cli', 'main.ts');

/**
 * The independent Python peer (test/interop/pypeer.py) inside a host's
 * namespace, listening on 0.0.0.0:`port`, with its default 3 s tick (the
 * reference's). Events and commands as JsonLinesNode describes; its `update`
 * events carry no entries (ask with `read`).
 */
export class NsPyPeer extends JsonLinesNode {
  constructor(o: { id: string; netns: string; port: number; key: string; bootstrap: string[] }) {
    const args = [PYPEER, '--id', o.id, '--port', String(o.port), '--host', '0.0.0.0'];
    args.push('--key', o.key);
    for (const b of o.bootstrap) args.push('--bootstrap', b);
    super(o.id, 'ip', ['netns', 'exec', o.netns, PYTHON, ...args]);
  }
}

/**
 * `dsn start` (the command line, from the sources through tsx) inside a
 * host's namespace, with --json logs. `up` resolves on its "is up" line;
 * `terminate()` sends SIGTERM, as an operator or a service manager would,
 * and resolves with the exit code. Its log's events are re-emitted: `join`,
 * `leave`, `disconnect` (node).
 */
export class CliNode extends EventEmitter {
  readonly up: Promise<void>;
  readonly exited: Promise<number | null>;
  readonly log: string[] = [];
  private readonly child: ChildProcess;

  constructor(
    readonly id: string,
    o: { netns: string; port: number; key: string; cred: string; bootstrap: string[] },
  ) {
    super();
    const args = ['--import', 'tsx', CLI, 'start', '--id', id, '--port', String(o.port)];
    args.push('--host', '0.0.0.0', '--key', o.key, '--credentials', o.cred, '--json');
    for (const b of o.bootstrap) args.push('--bootstrap', b);
    this.child = spawn('ip', ['netns', 'exec', o.netns, process.execPath, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stderr as NodeJS.ReadableStream }).on('line', (l) => {
      this.log.push(l);
      if (this.log.length > 200) this.log.shift();
      try {
        const m = JSON.parse(l) as { event?: string; node?: string };
        if (m.event && m.node) this.emit(m.event, m.node);
      } catch {}
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.up = new Promise((resolve, reject) => {
      createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
        if (/"event":"up"/.test(l)) resolve();
      });
      void this.exited.then((code) =>
        reject(new Error(`dsn start ${id} exited with ${code}: ${this.log.slice(-5).join('\n')}`)),
      );
    });
    this.up.catch(() => {});
  }

  /** SIGTERM: a clean stop. Resolves with the exit code. */
  terminate(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  /** kill -9 (cleanup). */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * The failure detector's view as reported by events: for each observer, the
 * last of `suspect` / `alive` it reported for each peer, and every
 * `suspect`, `alive`, `disconnect` and `leave` with its time.
 */
export class LivenessLog {
  readonly events: { at: number; observer: string; event: string; node: string }[] = [];
  private readonly state = new Map<string, Map<string, string>>();

  watch(p: EventEmitter & { id: string }): void {
    for (const event of ['suspect', 'alive', 'disconnect', 'leave']) {
      p.on(event, (node: string) => {
        this.events.push({ at: Date.now(), observer: p.id, event, node });
        const m = this.state.get(p.id) ?? new Map<string, string>();
        this.state.set(p.id, m);
        m.set(node, event);
      });
    }
  }

  /** The last liveness event `observer` reported for `node` ('alive' if none). */
  of(observer: string, node: string): string {
    return this.state.get(observer)?.get(node) ?? 'alive';
  }

  /** Events matching, since `since` (ms timestamp). */
  find(
    match: { observer?: string; event?: string; node?: string },
    since = 0,
  ): { at: number; observer: string; event: string; node: string }[] {
    return this.events.filter(
      (e) =>
        e.at >= since &&
        (match.observer === undefined || e.observer === match.observer) &&
        (match.event === undefined || e.event === match.event) &&
        (match.node === undefined || e.node === match.node),
    );
  }

  describe(since = 0): string {
    return this.events
      .filter((e) => e.at >= since)
      .map((e) => `+${e.at - since} ms ${e.observer}: ${e.event} ${e.node}`)
      .join('\n');
  }
}
