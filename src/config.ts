import type { Clock } from './clock.js';
import { parseAesKey } from './crypto/envelope.js';
import { ConfigError } from './errors.js';
import type { TrafficObserver } from './node/observer.js';
import type { Transport } from './transport/types.js';
import { DEFAULT_LIMITS, type Limits } from './wire/limits.js';

export interface Endpoint {
  address: string;
  port: number;
}

/** Timings in milliseconds. The defaults match the Python nodes' 3-second tick. */
export interface Timing {
  /** How often gossip runs (the reference's tick). */
  tickMs: number;
  /**
   * A healthy peer is pinged once it has been silent this long plus its own
   * fixed offset: 0–`probeJitterMs`/4 when this node's ID is the smaller of
   * the two, a jitter more otherwise. So of two nodes the same one pings
   * first every round, and the other, having heard it, need not ping back:
   * one ping per pair, not two (the tick, `suspectProbeMs`, must stay below
   * three quarters of the jitter).
   */
  probeIntervalMs: number;
  probeJitterMs: number;
  /**
   * Routine pings per second a node aims to stay under. With more than
   * 2 × probesPerSecond × probeIntervalMs / 1000 peers (8 by default) the
   * interval and the offsets stretch with the number of peers, so that a
   * quiet network costs O(N) pings a second, not O(N²): at 50 nodes a healthy
   * peer is pinged about every 25 s. A peer whose connection closes is pinged
   * at once, so a stopped or killed process is still noticed in seconds.
   */
  probesPerSecond: number;
  /** How often a suspected peer (one failed ping) is probed again. */
  suspectProbeMs: number;
  /** A peer silent this long, with at least two failed pings in a row, is declared gone. */
  deadAfterMs: number;
  /** Timeout of one request; bigger bodies get more (at least 1 MB/s). */
  requestTimeoutMs: number;
  /** Tries per request (pings: one, the failure detector retries). */
  tries: number;
  /** Pause between tries. */
  retryDelayMs: number;
  /** First and longest pause between attempts to reach a lost peer or bootstrap again. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** With requireJoin: how long start() keeps trying unreachable bootstrap nodes before it rejects. */
  joinTimeoutMs: number;
}

export const DEFAULT_TIMING: Readonly<Timing> = Object.freeze({
  tickMs: 3000,
  probeIntervalMs: 4000,
  probeJitterMs: 2000,
  probesPerSecond: 1,
  suspectProbeMs: 1000,
  deadAfterMs: 8000,
  requestTimeoutMs: 2000,
  tries: 3,
  retryDelayMs: 500,
  reconnectMinMs: 1000,
  // Short enough that a healed partition finds itself within seconds; the
  // cost stays bounded by RECONNECTS_PER_TICK (ticker.ts).
  reconnectMaxMs: 5000,
  joinTimeoutMs: 30_000,
});

/**
 * How updates spread. Up to `fanoutAbove` nodes every owner sends each new
 * State to every peer (a full mesh, as the Python nodes do). In a larger
 * network it travels down a tree of the nodes of this implementation with
 * `fanout` children per node (and goes straight to every Python peer,
 * which do not relay); digests exchanged in gossip repair what the tree
 * missed (eager and lazy push, in the manner of Plumtree). See spread.ts.
 */
export interface Spread {
  fanout: number;
  fanoutAbove: number;
}

export const DEFAULT_SPREAD: Readonly<Spread> = Object.freeze({ fanout: 4, fanoutAbove: 32 });

export interface DashboardOptions {
  /** 0 takes a free port. */
  port: number;
  /** Default '127.0.0.1': the page is read-only but shows every state. */
  host?: string;
}

/** The options a program passes; see DSNodeConfig for what each means. */
export interface DSNodeConfigInit {
  nodeId: string;
  port: number;
  bootstrapNodes?: Endpoint[] | null;
  aesKey?: string | null;
  credentialDir?: string | null;
  /** Folder for `<nodeId>.log` (alerts, joins, disconnects); null or absent: no log file. */
  loggingDir?: string | null;
  networkIp?: string | null;
  /** Node IDs allowed to talk to this node; empty, null or absent: no whitelist, anyone with the key. */
  whitelistNodeIds?: string[] | null;
  host?: string;
  /**
   * start() rejects (a JoinError naming each bootstrap and why) when no
   * bootstrap node admits this node — at once for a refusal that trying
   * again cannot change (another network key, a node ID bound to another
   * key, the whitelist, the version), after timing.joinTimeoutMs for
   * unreachable ones — instead of running alone. Default false (as Python).
   */
  requireJoin?: boolean;
  /** Serve the live dashboard page on this port (host default 127.0.0.1). */
  dashboard?: DashboardOptions | null;
  limits?: Partial<Limits>;
  timing?: Partial<Timing>;
  spread?: Partial<Spread>;
  clock?: Clock;
  transport?: Transport;
  /** Told of every request made and served (metrics; see TrafficObserver). */
  observer?: TrafficObserver;
}

/** The Python dictionary's keys (all of them: any other is refused) and their camelCase fields. */
const PY_KEYS: Record<string, keyof DSNodeConfigInit> = {
  node_id: 'nodeId',
  port: 'port',
  bootstrap_nodes: 'bootstrapNodes',
  aes_key: 'aesKey',
  credential_dir: 'credentialDir',
  logging_dir: 'loggingDir',
  network_ip: 'networkIp',
  whitelist_node_ids: 'whitelistNodeIds',
};
const CAMEL_TO_PY = new Map(Object.entries(PY_KEYS).map(([py, camel]) => [camel, py]));

const INIT_KEYS = new Set<string>([
  'nodeId',
  'port',
  'bootstrapNodes',
  'aesKey',
  'credentialDir',
  'loggingDir',
  'networkIp',
  'whitelistNodeIds',
  'host',
  'requireJoin',
  'dashboard',
  'limits',
  'timing',
  'spread',
  'clock',
  'transport',
  'observer',
]);

/**
 * A validated node configuration. Unknown keys are refused (a misspelt
 * `bootstrap_node` would otherwise silently start a lonely node).
 */
export class DSNodeConfig {
  readonly nodeId: string;
  readonly port: number;
  readonly bootstrapNodes: readonly Endpoint[];
  /** 32 hex characters, or null for an unencrypted network. */
  readonly aesKey: string | null;
  /** Where keys live (Python layout); null keeps them in memory only. Default 'credentials'. */
  readonly credentialDir: string | null;
  /**
   * Folder of this node's log file `<nodeId>.log`: one line per alert, join
   * (`peer`) and disconnect, with an ISO time. Null (the default): no file.
   */
  readonly loggingDir: string | null;
  /** This node's address as others reach it; null = learn it from the first Hello answer. */
  readonly networkIp: string | null;
  /**
   * Node IDs allowed to talk to this node (own ID always allowed). Null = no
   * whitelist, anyone with the key: an empty list means the same, as in the
   * Python package (Language Pipes passes `[]` by default).
   */
  readonly whitelistNodeIds: readonly string[] | null;
  /** Interface the server listens on. Default '0.0.0.0'. */
  readonly host: string;
  readonly dashboard: Readonly<Required<DashboardOptions>> | null;
  readonly requireJoin: boolean;
  readonly limits: Readonly<Limits>;
  readonly timing: Readonly<Timing>;
  readonly spread: Readonly<Spread>;
  readonly clock: Clock | undefined;
  readonly transport: Transport | undefined;
  readonly observer: TrafficObserver | undefined;

  private constructor(init: DSNodeConfigInit) {
    this.nodeId = checkNodeId(init.nodeId, 'nodeId');
    this.port = checkPort(init.port, 'port', true);
    this.bootstrapNodes = Object.freeze(
      checkEndpoints(init.bootstrapNodes ?? [], 'bootstrapNodes'),
    );
    this.aesKey = checkAesKey(init.aesKey);
    this.credentialDir = optString(init.credentialDir, 'credentialDir', 'credentials', true);
    this.loggingDir = optString(init.loggingDir, 'loggingDir', null, true);
    this.networkIp = optString(init.networkIp, 'networkIp', null, true);
    if (this.networkIp !== null && utf8Length(this.networkIp) > DEFAULT_LIMITS.maxAddressBytes) {
      // Peers refuse a Hello whose address is longer.
      throw new ConfigError(
        'networkIp',
        `must be at most ${DEFAULT_LIMITS.maxAddressBytes} bytes of UTF-8`,
      );
    }
    this.whitelistNodeIds = checkWhitelist(init.whitelistNodeIds);
    this.host = optString(init.host, 'host', '0.0.0.0', false) as string;
    if (init.requireJoin != null && typeof init.requireJoin !== 'boolean') {
      throw new ConfigError(
        'requireJoin',
        `must be true or false, got ${describe(init.requireJoin)}`,
      );
    }
    this.requireJoin = init.requireJoin ?? false;
    this.dashboard = checkDashboard(init.dashboard);
    this.limits = Object.freeze(mergeNumbers('limits', DEFAULT_LIMITS, init.limits));
    this.timing = Object.freeze(mergeNumbers('timing', DEFAULT_TIMING, init.timing));
    this.spread = Object.freeze(mergeNumbers('spread', DEFAULT_SPREAD, init.spread));
    this.clock = init.clock;
    this.transport = init.transport;
    this.observer = init.observer;
  }

  /** Validates a camelCase configuration object. */
  static from(init: DSNodeConfigInit | DSNodeConfig): DSNodeConfig {
    if (init instanceof DSNodeConfig) return init;
    if (init === null || typeof init !== 'object') {
      throw new ConfigError('config', 'must be an object');
    }
    for (const k of Object.keys(init)) {
      if (!INIT_KEYS.has(k)) throw new ConfigError(k, 'is not a configuration field');
    }
    return new DSNodeConfig(init);
  }

  /**
   * Takes the Python configuration dictionary (snake_case keys) as the Python
   * package reads it: a missing key is its default, None (null) is "not
   * set" — credential_dir 'credentials' (None: keys in memory only), no AES
   * key, no logging_dir, no network_ip, no bootstrap nodes, and no whitelist
   * (also for an empty list). node_id and port are required. Errors name the
   * dictionary's key (`aes_key: …`).
   */
  static fromDict(dict: Record<string, unknown>): DSNodeConfig {
    if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) {
      throw new ConfigError('config', 'must be a dictionary');
    }
    const init: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(dict)) {
      const target = Object.hasOwn(PY_KEYS, k) ? PY_KEYS[k] : undefined;
      if (!target) throw new ConfigError(k, 'is not a configuration field');
      init[target] = v;
    }
    for (const k of ['node_id', 'port']) {
      if (dict[k] === undefined) throw new ConfigError(k, 'is required');
      if (dict[k] === null) throw new ConfigError(k, 'is required, got None');
    }
    try {
      return new DSNodeConfig(init as unknown as DSNodeConfigInit);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // 'bootstrapNodes[0].port' → 'bootstrap_nodes[0].port': the name the caller wrote.
      const root = /^[A-Za-z]+/.exec(err.field)?.[0] ?? '';
      const py = CAMEL_TO_PY.get(root as keyof DSNodeConfigInit);
      if (!py) throw err;
      const reason = err.message.slice(err.field.length + 2);
      throw new ConfigError(py + err.field.slice(root.length), reason);
    }
  }
}

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

function checkNodeId(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0) {
    throw new ConfigError(field, `must be a non-empty string, got ${describe(v)}`);
  }
  if (utf8Length(v) > DEFAULT_LIMITS.maxNodeIdBytes) {
    throw new ConfigError(field, `must be at most ${DEFAULT_LIMITS.maxNodeIdBytes} bytes of UTF-8`);
  }
  return v;
}

function checkPort(v: unknown, field: string, allowZero: boolean): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > 65535) {
    const range = allowZero ? '0 (any free port) to 65535' : '1 to 65535';
    throw new ConfigError(field, `must be a whole number from ${range}, got ${describe(v)}`);
  }
  return v;
}

function checkEndpoints(v: unknown, field: string): Endpoint[] {
  if (!Array.isArray(v)) throw new ConfigError(field, `must be a list, got ${describe(v)}`);
  return v.map((e, i) => {
    const f = `${field}[${i}]`;
    if (e === null || typeof e !== 'object') throw new ConfigError(f, 'must be { address, port }');
    const { address, port } = e as Record<string, unknown>;
    if (typeof address !== 'string' || address.length === 0) {
      throw new ConfigError(`${f}.address`, `must be a non-empty string, got ${describe(address)}`);
    }
    return { address, port: checkPort(port, `${f}.port`, false) };
  });
}

function checkDashboard(v: unknown): Readonly<Required<DashboardOptions>> | null {
  if (v == null) return null;
  if (typeof v !== 'object') throw new ConfigError('dashboard', 'must be { port, host? }');
  const d = v as Record<string, unknown>;
  for (const k of Object.keys(d)) {
    if (k !== 'port' && k !== 'host')
      throw new ConfigError(`dashboard.${k}`, 'is not a dashboard setting');
  }
  const port = checkPort(d.port, 'dashboard.port', true);
  const host = optString(d.host, 'dashboard.host', '127.0.0.1', false) as string;
  return Object.freeze({ port, host });
}

/** An empty list is no whitelist, as in the Python package (not "refuse everyone"). */
function checkWhitelist(v: unknown): readonly string[] | null {
  if (v == null) return null;
  if (!Array.isArray(v))
    throw new ConfigError('whitelistNodeIds', `must be a list, got ${describe(v)}`);
  if (v.length === 0) return null;
  return Object.freeze(v.map((id, i) => checkNodeId(id, `whitelistNodeIds[${i}]`)));
}

/** Checked now, not at the first message; '' is refused rather than read as "unencrypted". */
function checkAesKey(v: unknown): string | null {
  if (v == null) return null;
  if (v === '') {
    throw new ConfigError(
      'aesKey',
      'must be 32 hex characters (16 bytes), got an empty string; leave it out (or None/null) for an unencrypted network',
    );
  }
  parseAesKey(v as string, 'aesKey');
  return v as string;
}

function optString(
  v: unknown,
  field: string,
  dflt: string | null,
  nullable: boolean,
): string | null {
  if (v === undefined) return dflt;
  if (v === null && nullable) return null;
  if (typeof v !== 'string' || v.length === 0) {
    throw new ConfigError(field, `must be a non-empty string, got ${describe(v)}`);
  }
  return v;
}

function mergeNumbers<T extends object>(field: string, base: T, over: Partial<T> | undefined): T {
  if (over === undefined) return { ...base };
  if (over === null || typeof over !== 'object') throw new ConfigError(field, 'must be an object');
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(over)) {
    if (!(k in base)) throw new ConfigError(`${field}.${k}`, 'is not a known setting');
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new ConfigError(`${field}.${k}`, `must be a positive number, got ${describe(v)}`);
    }
    out[k] = v;
  }
  return out as T;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return 'a list';
  return v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v);
}
