export interface NetStats {
  /** CPU time of the whole network, microseconds (user + system). */
  cpuUs: number;
  /** Request bytes sent by all transports. */
  bytesSent: number;
  /** Requests sent by all transports. */
  requests: number;
  /** Resident memory of each node (in-process mode: the process's share per node). */
  rssPerNode: number[];
  /**
   * Memory of each node no other process shares (Linux: private pages of
   * /proc/self/smaps_rollup); null where it cannot be read. RSS also counts
   * the pages of Node.js's own code that every node process maps.
   */
  privatePerNode: number[] | null;
}

/** A network under test: N processes, or N nodes in this process. */
export interface BenchNet {
  /** Starts N nodes, all joining through the first; resolves with ms until every node lists all N. */
  start(n: number, key: string): Promise<number>;
  /**
   * R updates by rotating writers, numbered from `firstSeq` (writer = node
   * (seq − 1) mod N); the ms until every other node read each one.
   */
  convergeAll(updates: number, spacingMs: number, firstSeq: number): Promise<number[]>;
  /** Node 0 writes as fast as it can for `seconds`. */
  blast(
    seconds: number,
    window: number,
  ): Promise<{ calls: number; delivered: number; lags: number[]; finalEverywhere: boolean }>;
  stats(): Promise<NetStats>;
  stop(): Promise<void>;
}

/**
 * The same fan-out with no protocol (bench/fanout.mjs: N processes, plain
 * TCP), measured in the same run once that size's nodes had stopped: the
 * machine's part of the convergence time.
 */
export interface Floor {
  /** Measured updates (after one warm-up round). */
  updates: number;
  median: number;
  p90: number;
  p99: number;
  /** Convergence median / floor median. */
  ratio: number;
}

/** One size of process or in-process mode. */
export interface Row {
  n: number;
  joinMs: number;
  /** The measured updates, after the warm-up. */
  convergence: { median: number; p90: number; p99: number; n: number };
  /** The warm-up updates (by default one per node: each node's first write). */
  warmup: { median: number; p90: number; p99: number; n: number } | null;
  throughput: {
    seconds: number;
    acceptedPerSec: number;
    deliveredPerSec: number;
    lagP99Ms: number;
    finalEverywhere: boolean;
  };
  cpuSecPerUpdate: number;
  idleCores: number;
  /** Requests per second of the whole network while idle (pings and gossip). */
  idleRequestsPerSec: number;
  bytesPerUpdate: number;
  rssMiB: { median: number; max: number };
  /** Private memory (not shared with other processes) after the throughput run; null if unknown. */
  privateMiB: { median: number; max: number } | null;
  /** RSS once joined and idle, before the throughput run. */
  rssIdleMiB: { median: number; max: number };
  /** Null where not measured (in-process mode, or N not in --floor-sizes). */
  floor: Floor | null;
}
