import { randomBytes } from 'node:crypto';
import type { Endpoint } from '../config.js';
import { ChangeFeed } from '../dashboard/feed.js';
import { statePayload } from '../dashboard/state.js';
import { Throttle } from '../dashboard/throttle.js';
import type { NodeView } from '../node/node.js';
import { DSNodeServer } from '../server.js';
import { clockTime, endpoint, safe, styleFor, truncate } from './format.js';
import { LiveScreen } from './screen.js';
import { stopSignal } from './signals.js';
import { renderTable } from './table.js';

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

/**
 * `dsn watch`: joins the network as an observer (a node with no state and
 * no stored keys) and shows every node's state. On a terminal, a table
 * redrawn in place on every change (and every second, for the ages);
 * otherwise the table printed once per change, tables separated by blank
 * lines; with --json, one JSON snapshot per line; with --once, one print
 * after joining, then exit.
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
  // A node whose own state is empty is sent no states when it joins (its
  // state hashes like the placeholder peers hold for it, so they do not
  // answer with theirs). Publishing one key makes every peer reply with its
  // state, and tells the network what this node is.
  const introduced = server.updateData('role', 'observer').catch(() => {});
  const via = opts.bootstrap.map((e) => endpoint(e.address, e.port)).join(', ');
  const others = () => statePayload(server).nodes.filter((v) => !v.self);

  if (opts.once) {
    await introduced;
    const nodes = others();
    await server.stop();
    if (nodes.length === 0) {
      throw new Error(
        `could not join through ${via}: no node answered (check the address and the key)`,
      );
    }
    process.stdout.write(opts.json ? jsonLine(id, nodes) : `${plainTable(nodes).join('\n')}\n`);
    return;
  }

  const tty = process.stdout.isTTY === true && !opts.json;
  const screen = tty ? new LiveScreen(process.stdout) : null;
  const style = styleFor(process.stdout);
  const draw = () => {
    const nodes = others();
    if (opts.json) {
      process.stdout.write(jsonLine(id, nodes));
    } else if (screen) {
      const now = Date.now();
      const alive = nodes.filter((v) => v.alive).length;
      const title = `${style.bold('DSN watch')}  ${count(nodes.length, 'node')}, ${alive} alive  ${style.dim(`via ${safe(via)} as ${safe(id)}`)}`;
      const lines = [`${title}  ${style.dim(clockTime(now))}`, ''];
      lines.push(
        ...(nodes.length > 0
          ? renderTable(nodes, now, { style, columns: screen.columns })
          : ['(no nodes yet)']),
      );
      lines.push('');
      if (alert && now - alert.at < 60_000) {
        lines.push(style.yellow(truncate(`alert: ${safe(alert.message)}`, screen.columns)));
      }
      lines.push(style.dim('Ctrl-C to quit'));
      screen.draw(lines);
    } else {
      process.stdout.write(
        `${clockTime(Date.now())}  ${count(nodes.length, 'node')}\n${plainTable(nodes).join('\n')}\n\n`,
      );
    }
  };

  const throttle = new Throttle(draw, REDRAW_MS);
  const feed = new ChangeFeed(server);
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
  throttle.cancel();
  screen?.close();
  await server.stop();
  process.exitCode = 0;
}

function plainTable(nodes: NodeView[]): string[] {
  return nodes.length > 0
    ? renderTable(nodes, Date.now(), { style: styleFor(process.stdout) })
    : ['(no nodes)'];
}

function jsonLine(observer: string, nodes: NodeView[]): string {
  return `${JSON.stringify({ observer, now: Date.now(), nodes })}\n`;
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
