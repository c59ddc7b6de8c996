import type { Json } from '../control/json.js';
import { clockTime, endpoint, pair, type Style, safe, styleFor, truncate } from './format.js';
import { clientFor, type RemoteOptions, refusal } from './remote.js';

export type MonitorOptions = RemoteOptions;

/** Longest value shown in a readable line; --json carries values whole. */
const MAX_VALUE_CHARS = 80;

/**
 * `dsn monitor`: the running node's events as they happen, until Ctrl-C
 * (exit 0). One line per event for people, or with --json each event as
 * the API sends it, one JSON object per line. The stream's own `ready` and
 * `stop` lines are not events: they become a note on stderr. If the node
 * stops or goes away, says so and exits 1.
 */
export async function monitor(opts: MonitorOptions): Promise<void> {
  const client = clientFor(opts);
  const abort = new AbortController();
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // `dsn monitor | head -3`: a reader that went away ends the monitor as Ctrl-C does.
  process.stdout.on('error', onSignal);
  const style = styleFor(process.stdout);
  const tty = process.stdout.isTTY === true;
  let stopped: string | null = null;
  try {
    await client.stream(
      '/v1/events',
      (event, line) => {
        const kind = get(event, 'event');
        if (kind === 'ready') {
          process.stderr.write(
            `watching node ${safe(String(get(event, 'nodeId')))} on ${client.where}; Ctrl-C to stop\n`,
          );
          return;
        }
        if (kind === 'stop') {
          stopped = String(get(event, 'nodeId'));
          return;
        }
        process.stdout.write(opts.json ? `${line}\n` : `${describe(event, style, tty)}\n`);
      },
      abort.signal,
    );
  } catch (err) {
    throw refusal(err, client);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.stdout.off('error', onSignal);
  }
  if (interrupted) return;
  throw new Error(
    stopped !== null
      ? `node ${safe(stopped)} stopped`
      : `the node on ${client.where} closed the stream`,
  );
}

function get(event: Json, name: string): Json | undefined {
  return event instanceof Map ? event.get(name) : undefined;
}

/** "14:03:22 update      b  color=blue -old" (an ISO time when piped). */
export function describe(event: Json, s: Style, tty: boolean): string {
  const kind = String(get(event, 'event') ?? '?');
  const time = Number(get(event, 'time') ?? Date.now());
  const when = s.dim(tty ? clockTime(time) : new Date(time).toISOString());
  const colour =
    { peer: s.green, update: s.cyan, alive: s.green, suspect: s.yellow, alert: s.yellow }[kind] ??
    (kind === 'disconnect' || kind === 'leave' ? s.red : (t: string) => t);
  const label = colour(kind.padEnd(10));
  if (kind === 'alert') return `${when} ${label} ${safe(String(get(event, 'message') ?? ''))}`;
  const node = `${s.bold(safe(String(get(event, 'nodeId') ?? '?')))}${get(event, 'self') === true ? ' (self)' : ''}`;
  const parts: string[] = [];
  if (kind === 'peer') {
    parts.push(
      `at ${endpoint(String(get(event, 'address') ?? ''), Number(get(event, 'port') ?? 0))}`,
    );
  }
  const changed = get(event, 'changed');
  if (changed instanceof Map) {
    for (const [k, v] of changed) parts.push(pair(k, truncate(String(v), MAX_VALUE_CHARS)));
  }
  const removed = get(event, 'removed');
  if (Array.isArray(removed)) for (const k of removed) parts.push(s.dim(`-${safe(String(k))}`));
  return `${when} ${label} ${node}${parts.length > 0 ? `  ${parts.join(' ')}` : ''}`;
}
