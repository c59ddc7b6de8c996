import { randomBytes } from 'node:crypto';
import type { Endpoint } from '../config.js';
import { ChangeFeed } from '../dashboard/feed.js';
import type { Departed, StatePayload } from '../dashboard/state.js';
import { Throttle } from '../dashboard/throttle.js';
import { DSNodeServer } from '../server.js';
import { clockTime, endpoint, safe, styleFor, truncate } from './format.js';
import { LiveScreen } from './screen.js';
import { stopSignal } from './signals.js';
import { renderTable, status, type TableNode } from './table.js';

export interface WatchOptions {
  bootstrap: Endpoint[];
  key?: string;
  id?: string;
  port: number;
  host?: string;
  networkIp?: string;
  once?: boolean;
  json?: boolean;
}

/** Least time between two redraws, in ms: a node updating 1000 times a second costs ten. */
const REDRAW_MS = 100;
/** How long the last alert stays on screen, in ms. */
const ALERT_SHOWN_MS = 60_000;

/**
 * `dsn watch`: joins the network as an observer (a node of its own that
 * stores no keys on disk) and shows every other node's state. On a terminal, a table
 * redrawn in place on every change (and every second, for the ages);
 * otherwise the table printed once per change, tables separated by blank
 * lines; with --json, one JSON snapshot per line; with --once, one print
 * after joining, then exit.
 *
 * Liveness comes from the node's events (suspect, alive, leave, disconnect),
 * never from polling. A node that left (said goodbye) or failed (was
 * declared gone) stays listed as such for two minutes (see ChangeFeed).
 */
export async function watch(opts: WatchOptions): Promise<void> {
  const id = opts.id ?? `watch-${randomBytes(3).toString('hex')}`;
  const stopped = opts.once ? null : stopSignal();
  let alert: { message: string; at: number } | null = null;
  const server = await DSNodeServer.start(
    {
      nodeId: id,
      port: opts.port,
      bootstrapNodes: opts.bootstrap,
      aesKey: opts.key ?? null,
      credentialDir: null,
      ...(opts.host !== undefined && { host: opts.host }),
      ...(opts.networkIp !== undefined && { networkIp: opts.networkIp }),
    },
    { onAlert: (message) => (alert = { message, at: Date.now() }) },
  );
  // Tells the network what this node is (dashboards show it as role=observer);
  // every peer has answered this update before it resolves.
  const introduced = server.updateData('role', 'observer').catch(() => {});
  const via = opts.bootstrap.map((e) => endpoint(e.address, e.port)).join(', ');
  // Listening from the start: a node that goes while the table is up is shown as left or failed.
  const feed = new ChangeFeed(server).open();

  if (opts.once) {
    await introduced;
    const payload = feed.payload();
    const nodes = rowsOf(payload);
    feed.close();
    await server.stop();
    if (nodes.length === 0) {
      throw new Error(
        `could not join through ${via}: no node answered (check the address and the key)`,
      );
    }
    process.stdout.write(opts.json ? jsonLine(id, payload) : `${plainTable(nodes).join('\n')}\n`);
    return;
  }

  const screen =
    process.stdout.isTTY === true && !opts.json ? new LiveScreen(process.stdout) : null;
  const style = styleFor(process.stdout);
  const draw = () => {
    const payload = feed.payload();
    const nodes = rowsOf(payload);
    if (opts.json) {
      process.stdout.write(jsonLine(id, payload));
    } else if (screen) {
      const header = `${style.bold('DSN watch')}  ${summary(nodes)}  ${style.dim(`via ${safe(via)} as ${safe(id)}`)}`;
      const lines = [header, ''];
      lines.push(
        ...(nodes.length > 0
          ? renderTable(nodes, Date.now(), { style, columns: screen.columns })
          : ['(no nodes yet)']),
      );
      lines.push('');
      if (alert && Date.now() - alert.at < ALERT_SHOWN_MS) {
        lines.push(style.yellow(truncate(`alert: ${safe(alert.message)}`, screen.columns)));
      }
      lines.push(style.dim(`${clockTime(Date.now())}  Ctrl-C to quit`));
      screen.draw(lines);
    } else {
      process.stdout.write(
        `${clockTime(Date.now())}  ${summary(nodes)}\n${plainTable(nodes).join('\n')}\n\n`,
      );
    }
  };

  const throttle = new Throttle(draw, REDRAW_MS);
  const unsubscribe = feed.subscribe(() => throttle.trigger());
  const onAlert = () => throttle.trigger();
  server.on('alert', onAlert);
  // Ages tick on screen; a log of tables does not need a new one every second.
  const ticker = screen ? setInterval(draw, 1000) : null;
  const onResize = () => throttle.trigger();
  screen?.open();
  process.stdout.on('resize', onResize);
  draw();

  await stopped;
  if (ticker) clearInterval(ticker);
  process.stdout.off('resize', onResize);
  server.off('alert', onAlert);
  unsubscribe();
  feed.close();
  throttle.cancel();
  screen?.close();
  await server.stop();
  process.exitCode = 0;
}

/** The other nodes, then those gone lately (marked left or failed). */
function rowsOf(p: StatePayload): TableNode[] {
  const gone = (d: Departed): TableNode => ({ ...d.view, gone: d.reason });
  return [...p.nodes.filter((v) => !v.self), ...p.departed.map(gone)];
}

function plainTable(nodes: TableNode[]): string[] {
  return nodes.length > 0
    ? renderTable(nodes, Date.now(), { style: styleFor(process.stdout) })
    : ['(no nodes)'];
}

/** One JSON line: the other nodes, and those gone lately with why and when. */
function jsonLine(observer: string, p: StatePayload): string {
  const nodes = p.nodes.filter((v) => !v.self);
  return `${JSON.stringify({ observer, now: p.now, nodes, departed: p.departed })}\n`;
}

/** "5 nodes", "5 nodes, 4 alive", "4 nodes, 1 left, 1 failed": the departed are not counted as nodes. */
function summary(rows: TableNode[]): string {
  const count = (word: string) => rows.filter((v) => status(v) === word).length;
  const nodes = rows.length - count('left') - count('failed');
  const alive = count('yes');
  const parts = [`${nodes} node${nodes === 1 ? '' : 's'}`];
  if (alive !== nodes) parts.push(`${alive} alive`);
  for (const word of ['left', 'failed']) if (count(word) > 0) parts.push(`${count(word)} ${word}`);
  return parts.join(', ');
}
