import type { DepartureReason } from '../dashboard/state.js';
import type { NodeView } from '../node/node.js';
import { age, endpoint, pair, type Style, safe, truncate, width } from './format.js';

export interface TableOptions {
  style: Style;
  /** Terminal width: the STATE column is cut to fit. Undefined: never cut. */
  columns?: number;
}

const HEADERS = ['NODE', 'ADDRESS', 'ALIVE', 'UPDATED', 'STATE'] as const;
const GAP = '  ';

/** A row of the table: a node, and why it is gone if it is (still listed a while). */
export type TableNode = NodeView & { gone?: DepartureReason };

/** Nodes in a stable, human order: sensor-2 before sensor-10. */
export function byNodeId(a: NodeView, b: NodeView): number {
  return a.nodeId.localeCompare(b.nodeId, undefined, { numeric: true });
}

/** The ALIVE column: yes, suspected (a probe failed), left (said goodbye) or failed (declared so). */
export function status(v: TableNode): 'yes' | 'suspected' | DepartureReason {
  return v.gone ?? (v.liveness === 'suspect' ? 'suspected' : 'yes');
}

/**
 * The nodes as a text table, one line per node: ID, address, liveness, age
 * of its last update and its key=value pairs (the last known, for a node
 * that left or failed). `now` is ms since the epoch.
 */
export function renderTable(nodes: TableNode[], now: number, opts: TableOptions): string[] {
  const s = opts.style;
  const colour = { yes: s.green, suspected: s.yellow, failed: s.red, left: s.dim };
  const rows = [...nodes].sort(byNodeId).map((v) => ({
    cells: [
      safe(v.nodeId),
      endpoint(v.address, v.port),
      status(v),
      v.lastUpdate > 0 ? age(now - v.lastUpdate * 1000) : '-',
    ],
    status: status(v),
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
    const aliveCell = colour[r.status](pad(alive, 2));
    const state = truncate(r.state, room);
    // A departed node's last known state is shown faint.
    const gone = r.status === 'left' || r.status === 'failed';
    const faint = gone ? s.dim : (text: string) => text;
    const name = gone ? pad(id, 0) : s.bold(pad(id, 0));
    return [name, pad(addr, 1), aliveCell, faint(pad(updated, 3)), faint(state)].join(GAP);
  });
  return [header, ...lines];
}
