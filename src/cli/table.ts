import type { NodeView } from '../node/node.js';
import { age, endpoint, pair, type Style, safe, truncate, width } from './format.js';

export interface TableOptions {
  style: Style;
  /** Terminal width: the STATE column is cut to fit. Undefined: never cut. */
  columns?: number;
}

const HEADERS = ['NODE', 'ADDRESS', 'ALIVE', 'UPDATED', 'STATE'] as const;
const GAP = '  ';

/** Nodes in a stable, human order: sensor-2 before sensor-10. */
export function byNodeId(a: NodeView, b: NodeView): number {
  return a.nodeId.localeCompare(b.nodeId, undefined, { numeric: true });
}

/**
 * The nodes as a text table, one line per node: ID, address, liveness, age
 * of its last update and its key=value pairs. `now` is ms since the epoch.
 */
export function renderTable(nodes: NodeView[], now: number, opts: TableOptions): string[] {
  const s = opts.style;
  const rows = [...nodes].sort(byNodeId).map((v) => ({
    cells: [
      safe(v.nodeId),
      endpoint(v.address, v.port),
      v.alive ? 'yes' : 'suspected',
      v.lastUpdate > 0 ? age(now - v.lastUpdate * 1000) : '-',
    ],
    alive: v.alive,
    state: v.state.length > 0 ? v.state.map(([k, val]) => pair(k, val)).join(' ') : '(empty)',
  }));
  const widths = [0, 1, 2, 3].map((i) =>
    Math.max(width(HEADERS[i] as string), ...rows.map((r) => width(r.cells[i] as string))),
  );
  const pad = (text: string, i: number) => text + ' '.repeat((widths[i] as number) - width(text));
  const fixed = widths.reduce((a, b) => a + b + GAP.length, 0);
  const room =
    opts.columns === undefined ? Number.POSITIVE_INFINITY : Math.max(8, opts.columns - fixed);

  const header = s.dim([...HEADERS.slice(0, 4).map((h, i) => pad(h, i)), 'STATE'].join(GAP));
  const lines = rows.map((r) => {
    const [id, addr, alive, updated] = r.cells as [string, string, string, string];
    const aliveCell = r.alive ? s.green(pad(alive, 2)) : s.yellow(pad(alive, 2));
    const state = truncate(r.state, room);
    return [s.bold(pad(id, 0)), pad(addr, 1), aliveCell, pad(updated, 3), state].join(GAP);
  });
  return [header, ...lines];
}
