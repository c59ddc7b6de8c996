import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Timing } from '../../src/index.js';
import { JsonLinesNode } from './json-lines.js';

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
 * A node process (test/helpers/proc-node.ts); events and commands as
 * JsonLinesNode describes, plus a mirror of what it holds of its peers.
 */
export class ProcNode extends JsonLinesNode {
  /**
   * What this node holds of every peer, mirrored from its events (peer,
   * update, disconnect arrive in order on one pipe): checks can run on every
   * event without asking the process. Its own state is not in here.
   */
  readonly view = new Map<string, Entries>();

  constructor(readonly options: ProcNodeOptions) {
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
    super(o.id, cmd as string, argv as string[], ROOT);
    this.on('peer', (node: string) => {
      if (!this.view.has(node)) this.view.set(node, []);
    });
    this.on('update', (node: string, entries: Entries | undefined) => {
      if (entries) this.view.set(node, entries);
    });
    this.on('disconnect', (node: string) => this.view.delete(node));
  }

  /** Node IDs this node lists (its own first), from the mirrored events. */
  listed(): string[] {
    return [this.id, ...this.view.keys()];
  }

  /** `key` in `node`'s state as this node holds it (from the mirror). */
  holds(node: string, key: string): string | null {
    return this.view.get(node)?.find(([k]) => k === key)?.[1] ?? null;
  }

  /** Every node's state as this node holds it (its own included). */
  async states(): Promise<Record<string, Entries | null>> {
    return (await this.cmd('states')).states as Record<string, Entries | null>;
  }

  async memory(): Promise<NodeJS.MemoryUsage> {
    return (await this.cmd('stats')).memory as NodeJS.MemoryUsage;
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
