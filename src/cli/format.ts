// Text helpers shared by the commands that print to a terminal.

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes a string from the network safe to print: any node can put escape
 * sequences in its state, and printed raw they would drive the terminal.
 * C0/C1 controls and DEL become \xNN, line and bidi controls \uNNNN.
 */
export function safe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** key=value, the value quoted when it is empty or holds spaces, quotes or '='. */
export function pair(key: string, value: string): string {
  const v = value === '' || /[\s"'=]/.test(value) ? JSON.stringify(value) : value;
  return `${safe(key)}=${safe(v)}`;
}

/** "0.4s", "12s", "3m 04s", "2h 05m", "3d 4h"; "-" for no time. */
export function age(ms: number | null): string {
  if (ms === null) return '-';
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.floor(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Local wall-clock time, "14:03:22". */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
}

/** "host:port", brackets around IPv6 literals; "?" while unknown. */
export function endpoint(address: string, port: number): string {
  if (address === '' && port === 0) return '?';
  const host = address === '' ? '?' : address.includes(':') ? `[${address}]` : address;
  return `${host}:${port}`;
}

export interface Style {
  dim(s: string): string;
  bold(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  cyan(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const plain = (s: string) => s;

/** No colours. */
export const PLAIN: Style = {
  dim: plain,
  bold: plain,
  green: plain,
  yellow: plain,
  red: plain,
  cyan: plain,
};

/** ANSI colours for a terminal, unless NO_COLOR is set (https://no-color.org). */
export function styleFor(stream: NodeJS.WriteStream): Style {
  const on = stream.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  if (!on) return PLAIN;
  return {
    dim: sgr(2, 22),
    bold: sgr(1, 22),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    red: sgr(31, 39),
    cyan: sgr(36, 39),
  };
}

/** Display width of plain text (no colour codes), counted in code points. */
export function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Cuts plain text to `max` code points, ending in '…' when cut. */
export function truncate(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  return max <= 0 ? '' : `${chars.slice(0, max - 1).join('')}…`;
}
