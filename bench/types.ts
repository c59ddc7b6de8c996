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
