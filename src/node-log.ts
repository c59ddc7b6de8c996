import type { EventEmitter } from 'node:events';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from './clock.js';
import { fileNameOf } from './crypto/credentials.js';
import type { DSNodeEvents } from './node/events.js';

/**
 * A node's log file, `<loggingDir>/<nodeId>.log` (what the Python package's
 * `logging_dir` is for): one line per alert, join and disconnect,
 * `<ISO time> <event> <text>`, appended. `update` is never logged: it fires
 * once per state received, the hot path.
 *
 * Lines are queued and written by one asynchronous loop, so an event costs no
 * I/O where it fires. The first failure (folder, open or write) is reported
 * once through `onError` and turns the log off: a full disk never stops the
 * node. `close()` writes what is queued, then closes the file.
 */
export class NodeLog {
  readonly path: string;
  private queue: string[] = [];
  private writing: Promise<void> | null = null;
  private file: FileHandle | null = null;
  private state: 'open' | 'failed' | 'closed' = 'open';

  constructor(
    private readonly dir: string,
    nodeId: string,
    private readonly clock: Clock,
    private readonly onError: (message: string) => void,
  ) {
    // The credential store's file names: an ID can never reach outside the folder.
    this.path = join(dir, `${fileNameOf(nodeId)}.log`);
  }

  /** Logs the alerts, joins and disconnects of `events`. */
  attach(events: EventEmitter<DSNodeEvents>): this {
    events.on('alert', (message) => this.write('alert', message));
    events.on('peer', (nodeId) => this.write('peer', nodeId));
    events.on('disconnect', (nodeId) => this.write('disconnect', nodeId));
    return this;
  }

  write(event: string, text: string): void {
    if (this.state !== 'open') return;
    const time = new Date(this.clock.now()).toISOString();
    this.queue.push(`${time} ${event} ${oneLine(text)}\n`);
    this.kick();
  }

  /** Writes what is queued and closes the file; later lines are dropped. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'open') this.state = 'closed';
    while (this.writing) await this.writing;
    const file = this.file;
    this.file = null;
    await file?.close().catch(() => {});
  }

  private kick(): void {
    if (this.writing || this.queue.length === 0 || this.state === 'failed') return;
    // Re-checked once settled: a line queued while the loop was finishing is not left behind.
    this.writing = this.drain().finally(() => {
      this.writing = null;
      this.kick();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        if (!this.file) {
          await mkdir(this.dir, { recursive: true });
          this.file = await open(this.path, 'a');
        }
        const chunk = this.queue.join('');
        this.queue = [];
        await this.file.appendFile(chunk);
      }
    } catch (err) {
      this.state = 'failed';
      this.queue = [];
      this.onError(
        `cannot write the log file ${this.path}: ${(err as Error).message}; logging to it stopped`,
      );
    }
  }
}

/** One event, one line: control characters (a peer's newline, an escape) are shown, not written. */
function oneLine(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}
