import pino, { type Logger } from 'pino';
import type { DSNodeServer } from '../server.js';
import {
  clockTime,
  endpoint,
  PLAIN,
  pair,
  type Style,
  safe,
  styleFor,
  truncate,
} from './format.js';

/** Longest value shown in a readable update line; JSON lines carry values whole. */
const MAX_VALUE_CHARS = 80;

export type LogFormat = 'text' | 'json';

/**
 * Logs what happens to a node: joins, leaves and state updates (with the
 * keys that changed). Peers met while joining are logged as joins at once.
 * Alerts are not subscribed here: they come through DSNodeServer.start's
 * callback, which also sees those raised before start() resolves. Returns a
 * function that stops logging.
 */
export function logNodeEvents(server: DSNodeServer, out: LogWriter): () => void {
  // The last state seen of each peer, to log only what an update changed.
  const known = new Map<string, Map<string, string>>();
  for (const view of server.snapshot()) {
    if (view.self) continue;
    known.set(view.nodeId, new Map(view.state));
    out.write('join', view.nodeId, { address: endpoint(view.address, view.port) });
  }

  const onPeer = (id: string) => {
    const view = server.snapshot().find((v) => v.nodeId === id);
    out.write('join', id, { address: view ? endpoint(view.address, view.port) : '?' });
  };
  const onUpdate = (id: string) => {
    const now = server.readState(id) ?? new Map<string, string>();
    const before = known.get(id) ?? new Map<string, string>();
    known.set(id, now);
    const changed = [...now].filter(([k, v]) => before.get(k) !== v);
    const removed = [...before.keys()].filter((k) => !now.has(k));
    out.write('update', id, { changed, removed });
  };
  // A goodbye (`leave`) and a failure (`fail`: declared gone) are told apart.
  const onLeave = (id: string) => {
    known.delete(id);
    out.write('leave', id, {});
  };
  const onFail = (id: string) => {
    known.delete(id);
    out.write('fail', id, {});
  };

  server.on('peer', onPeer);
  server.on('update', onUpdate);
  server.on('leave', onLeave);
  server.on('disconnect', onFail);
  return () => {
    server.off('peer', onPeer);
    server.off('update', onUpdate);
    server.off('leave', onLeave);
    server.off('disconnect', onFail);
  };
}

type Details = {
  address?: string;
  /** Pairs, not an object: a key may be '__proto__'. */
  changed?: [string, string][];
  removed?: string[];
  message?: string;
};

/** One line per event: readable text, or JSON in pino's format. */
export interface LogWriter {
  write(event: string, node: string | null, details: Details): void;
}

export function createLogWriter(format: LogFormat, stream: NodeJS.WriteStream): LogWriter {
  return format === 'json' ? new JsonLog(stream) : new TextLog(stream);
}

/**
 * JSON lines through pino: `{"level":30,"time":<ms since the epoch>,"msg":
 * …, …fields}`, which log collectors (and pino-pretty) read as they are. No
 * pid or hostname: the collector knows where a line came from.
 */
export class JsonLog implements LogWriter {
  private readonly logger: Logger;

  constructor(stream: NodeJS.WritableStream) {
    this.logger = pino({ base: null }, stream);
  }

  /**
   * `msg` goes in the object rather than as pino's message argument: pino
   * writes an object's keys in order, so it comes before the fields.
   */
  line(level: 'info' | 'warn', msg: string, fields: Record<string, unknown>): void {
    this.logger[level]({ msg, ...fields });
  }

  write(event: string, node: string | null, details: Details): void {
    // An alert's message is its msg; the other details become fields.
    const { address, changed, removed } = details;
    this.line(event === 'alert' ? 'warn' : 'info', describe(event, node, details), {
      event,
      ...(node !== null && { node }),
      ...(address !== undefined && { address }),
      ...(changed && { changed: Object.fromEntries(changed) }),
      ...(removed && { removed }),
    });
  }
}

/** "14:03:22 update lib  mood=calm", coloured on a terminal; ISO times when piped. */
export class TextLog implements LogWriter {
  private readonly style: Style;
  private readonly tty: boolean;

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.style = styleFor(stream);
    this.tty = stream.isTTY === true;
  }

  write(event: string, node: string | null, details: Details): void {
    const now = Date.now();
    const s = this.style;
    const time = s.dim(this.tty ? clockTime(now) : new Date(now).toISOString());
    const label =
      {
        join: s.green('join  '),
        leave: s.red('leave '),
        fail: s.red('fail  '),
        update: s.cyan('update'),
        alert: s.yellow('alert '),
      }[event] ?? event.padEnd(6);
    const who = node === null ? '' : ` ${s.bold(safe(node))}`;
    const text = detailText(details, s);
    this.stream.write(`${time} ${label}${who}${text ? `  ${text}` : ''}\n`);
  }
}

/** A JSON line's `msg`: the text line's words, for people reading the collector's view. */
function describe(event: string, node: string | null, d: Details): string {
  if (event === 'alert' && node === null) return d.message === undefined ? event : safe(d.message);
  const who = node === null ? '' : ` ${safe(node)}`;
  const text = detailText(d, PLAIN);
  return `${event}${who}${text ? ` ${text}` : ''}`;
}

function detailText(d: Details, s: Style): string {
  const parts: string[] = [];
  if (d.address !== undefined) parts.push(`at ${d.address}`);
  for (const [k, v] of d.changed ?? []) parts.push(pair(k, truncate(v, MAX_VALUE_CHARS)));
  for (const k of d.removed ?? []) parts.push(s.dim(`-${safe(k)}`));
  if (d.message !== undefined) parts.push(safe(d.message));
  return parts.join(' ');
}
