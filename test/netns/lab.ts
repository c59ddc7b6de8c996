import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before } from 'node:test';

/**
 * A private LAN of network namespaces: one "lab" namespace holds two bridges
 * (br0, and br1 for the far side of a split); every host is a namespace with
 * one veth, `eth0` at 10.77.0.(10+i)/24, whose other end sits on a bridge in
 * the lab. Nothing touches the root namespace and there is no route out: the
 * addresses exist only inside namespaces created here.
 *
 * Names start with `dsnt-<pid>-`, so leftovers of a crashed run are known by
 * their dead pid and removed by the next run.
 */
export const PREFIX = 'dsnt-';
/** A locally administered MAC address no interface of the lab has (see Lab.cut). */
const DEAD_MAC = '02:00:00:00:00:99';

function ip(args: string[], allowFail = false): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) {
    throw new Error(`ip ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
  }
  return r.stdout ?? '';
}

/** Why namespaces cannot be used here, or null when they can. */
export function labUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const v = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) return 'the ip command (iproute2) is missing';
  const probe = `${PREFIX}${process.pid}-probe`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `cannot create a network namespace: ${r.stderr.trim()}`;
  ip(['netns', 'del', probe], true);
  return null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes namespaces left behind by runs whose process is gone. */
export function removeStale(): string[] {
  const removed: string[] = [];
  for (const line of ip(['netns', 'list'], true).split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = /^dsnt-(\d+)-/.exec(name);
    if (m && !alive(Number(m[1]))) {
      ip(['netns', 'del', name], true);
      removed.push(name);
    }
  }
  return removed;
}

export class Lab {
  readonly prefix: string;
  readonly lab: string;
  private created: string[] = [];
  private readonly onExit = () => this.teardown();
  /** Ctrl-C or a runner's SIGTERM: clean up, then die of the same signal. */
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.teardown();
    process.kill(process.pid, signal);
  };

  constructor(
    readonly hosts: number,
    tag = 'lab',
  ) {
    this.prefix = `${PREFIX}${process.pid}-${tag}-`;
    this.lab = `${this.prefix}sw`;
  }

  /** Host i (1-based): its namespace and address. */
  ns(i: number): string {
    return `${this.prefix}h${i}`;
  }

  address(i: number): string {
    return `10.77.0.${10 + i}`;
  }

  setup(): this {
    removeStale();
    process.once('exit', this.onExit);
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
    this.add(this.lab);
    for (const br of ['br0', 'br1']) {
      ip(['-n', this.lab, 'link', 'add', br, 'type', 'bridge']);
      ip(['-n', this.lab, 'link', 'set', br, 'up']);
    }
    for (let i = 1; i <= this.hosts; i++) {
      const ns = this.ns(i);
      this.add(ns);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      ip([
        '-n',
        this.lab,
        'link',
        'add',
        `v${i}`,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        ns,
      ]);
      ip(['-n', this.lab, 'link', 'set', `v${i}`, 'master', 'br0', 'up']);
      ip(['-n', ns, 'addr', 'add', `${this.address(i)}/24`, 'dev', 'eth0']);
      ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    }
    return this;
  }

  private add(ns: string): void {
    ip(['netns', 'add', ns]);
    this.created.push(ns);
  }

  /** Moves the given hosts to the second bridge: they reach each other, not the rest. */
  split(side: number[]): void {
    for (const i of side) ip(['-n', this.lab, 'link', 'set', `v${i}`, 'master', 'br1']);
  }

  /** Every host back on one bridge. */
  heal(): void {
    for (let i = 1; i <= this.hosts; i++) {
      ip(['-n', this.lab, 'link', 'set', `v${i}`, 'master', 'br0']);
    }
  }

  /**
   * Cuts the path between hosts i and j only, in both directions, while both
   * still reach everyone else: each one's neighbour entry for the other
   * points to a MAC address nobody has (permanent, so ARP cannot fix it).
   * The bridge floods those frames, every host drops them as not its own:
   * packets vanish silently, as on a dead link (no refusal, no ICMP).
   */
  cut(i: number, j: number): void {
    for (const [from, to] of [
      [i, j],
      [j, i],
    ] as const) {
      ip([
        '-n',
        this.ns(from),
        'neigh',
        'replace',
        this.address(to),
        'lladdr',
        DEAD_MAC,
        'dev',
        'eth0',
        'nud',
        'permanent',
      ]);
    }
  }

  /** Undoes cut(i, j): the neighbour entries go, ARP finds the real addresses again. */
  restore(i: number, j: number): void {
    for (const [from, to] of [
      [i, j],
      [j, i],
    ] as const) {
      ip(['-n', this.ns(from), 'neigh', 'del', this.address(to), 'dev', 'eth0'], true);
    }
  }

  /**
   * A TCP connect from host i to `address:port` (a process in host i's
   * namespace): 'connected', 'refused', or 'timeout' when nothing answered
   * within `timeoutMs` (the path is cut).
   */
  tcpConnect(
    i: number,
    address: string,
    port: number,
    timeoutMs = 3000,
  ): Promise<'connected' | 'refused' | 'timeout' | string> {
    const script = `const s = require('node:net').connect(${port}, ${JSON.stringify(address)});
      const t = setTimeout(() => { console.log('timeout'); process.exit(0); }, ${timeoutMs});
      s.on('connect', () => { console.log('connected'); process.exit(0); });
      s.on('error', (e) => { console.log(e.code === 'ECONNREFUSED' ? 'refused' : e.code); process.exit(0); });`;
    return new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', this.ns(i), process.execPath, '-e', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
      });
      child.stderr.on('data', (b: Buffer) => {
        out += b.toString();
      });
      child.on('error', reject);
      child.on('exit', () => resolve(out.trim()));
    });
  }

  /**
   * Destroys host i's TCP sockets to `address` (ss -K), as a middlebox that
   * loses its connection state would: the kernel stops retransmitting the
   * bytes of requests the node has given up on.
   */
  dropConnections(i: number, address: string): void {
    const r = spawnSync('ip', ['netns', 'exec', this.ns(i), 'ss', '-K', 'dst', address], {
      encoding: 'utf8',
    });
    if (r.status !== 0)
      throw new Error(`ss -K failed: ${(r.stderr || r.error?.message || '').trim()}`);
  }

  /** The bridge each host's link is on (for checking a split). */
  bridgeOf(i: number): string {
    const out = ip(['-n', this.lab, '-o', 'link', 'show', `v${i}`]);
    return /master (\S+)/.exec(out)?.[1] ?? '';
  }

  /** Deletes every namespace (and with them every link) this lab created. Idempotent. */
  teardown(): void {
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    for (const ns of this.created.reverse()) ip(['netns', 'del', ns], true);
    this.created = [];
  }

  /** Namespaces of this lab that still exist (for the cleanup check). */
  leftovers(): string[] {
    return ip(['netns', 'list'], true)
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((n) => n.startsWith(this.prefix));
  }
}

/**
 * The suite hooks every lab test needs: build the lab before (and refuse to
 * run without namespaces under CI), then kill the suite's node processes,
 * tear the lab down and check nothing is left.
 */
export function useLab(
  lab: Lab,
  procs: { kill(): Promise<void> }[],
  unavailable: string | null,
): void {
  before(() => {
    if (unavailable) throw new Error(`network namespaces are required under CI: ${unavailable}`);
    lab.setup();
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    lab.teardown();
    assert.deepEqual(lab.leftovers(), [], 'every namespace is gone');
  });
}
