import { DecodeError } from '../errors.js';

/**
 * The state map as the text of Python's `json.dumps(state)` with default
 * options (PROTOCOL.md §6). The Python receiver verifies a signature over its
 * own re-serialisation of the parsed map, so this text must match Python's
 * byte for byte:
 * - separators `", "` and `": "`, `{}` when empty;
 * - keys in insertion order (a `Map` keeps it for every key, including
 *   integer-like keys and `__proto__`, which a plain object would not);
 * - ensure_ascii escaping: everything outside 0x20..0x7E as `\uXXXX`
 *   (lower-case hex, per UTF-16 code unit, so astral characters become a
 *   surrogate pair), with the short forms for `"` `\` `\n` `\r` `\t` `\b` `\f`.
 */
export type StateMap = Map<string, string>;

const SHORT: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

// Anything Python's ensure_ascii encoder escapes: not in ' '..'~', or " or \.
const NEEDS_ESCAPE = /[^ -~]|["\\]/g;

function escapeChar(ch: string): string {
  return SHORT[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

export function pyString(s: string): string {
  return `"${s.replace(NEEDS_ESCAPE, escapeChar)}"`;
}

export function pyJsonDumps(state: StateMap): string {
  if (state.size === 0) return '{}';
  const parts: string[] = [];
  for (const [k, v] of state) parts.push(`${pyString(k)}: ${pyString(v)}`);
  return `{${parts.join(', ')}}`;
}

export interface ParseLimits {
  maxKeys: number;
}

/**
 * Parses a JSON object whose values are all strings into an ordered map,
 * with Python's `json.loads` semantics for a repeated key (the first position,
 * the last value). Anything else — other value types, bad escapes, raw
 * control characters, trailing text — is refused with a DecodeError.
 */
export function parseStateJson(text: string, limits: ParseLimits): StateMap {
  return new StateParser(text, limits.maxKeys).parse();
}

/**
 * parseStateJson, and whether the text is already the map's Python
 * serialisation (`pyJsonDumps(map) === text`), found while parsing: no
 * whitespace but the single space after each `:` and `,`, only ASCII
 * 0x20..0x7E unescaped, escapes exactly as ensure_ascii writes them, no
 * repeated key. Saves re-serialising every State received.
 */
export function parseStateText(
  text: string,
  limits: ParseLimits,
): { map: StateMap; canonical: boolean } {
  const p = new StateParser(text, limits.maxKeys);
  const map = p.parse();
  return { map, canonical: p.canonical };
}

class StateParser {
  private i = 0;
  /** Whether the text so far is as pyJsonDumps writes it. */
  canonical = true;
  constructor(
    private readonly s: string,
    private readonly maxKeys: number,
  ) {}

  private fail(what: string): never {
    throw new DecodeError('DSN_ERR_MALFORMED', `state JSON: ${what} at offset ${this.i}`);
  }

  /** Skips JSON whitespace; Python writes one space (`space`) or none there. */
  private ws(space = false): void {
    const s = this.s;
    const from = this.i;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else break;
    }
    const n = this.i - from;
    if (space ? n !== 1 || s.charCodeAt(from) !== 0x20 : n !== 0) this.canonical = false;
  }

  private expect(ch: string): void {
    if (this.s[this.i] !== ch) this.fail(`expected '${ch}'`);
    this.i++;
  }

  parse(): StateMap {
    const out: StateMap = new Map();
    this.ws();
    this.expect('{');
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
    } else {
      for (let first = true; ; first = false) {
        this.ws(!first);
        const key = this.str();
        this.ws();
        this.expect(':');
        this.ws(true);
        if (this.s[this.i] !== '"') this.fail('state values must be strings');
        const value = this.str();
        if (out.has(key)) this.canonical = false;
        out.set(key, value);
        if (out.size > this.maxKeys) {
          throw new DecodeError('DSN_ERR_LIMIT', `state has more than ${this.maxKeys} keys`);
        }
        this.ws();
        const c = this.s[this.i++];
        if (c === '}') break;
        if (c !== ',') this.fail("expected ',' or '}'");
      }
    }
    this.ws();
    if (this.i !== this.s.length) this.fail('trailing text');
    return out;
  }

  private str(): string {
    this.expect('"');
    const s = this.s;
    let out = '';
    let start = this.i;
    for (;;) {
      if (this.i >= s.length) this.fail('unterminated string');
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        out += s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.fail('raw control character in string');
      if (c !== 0x5c) {
        if (c > 0x7e) this.canonical = false;
        this.i++;
        continue;
      }
      out += s.slice(start, this.i);
      const e = s[this.i + 1];
      this.i += 2;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          this.canonical = false;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = s.slice(this.i, this.i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
          const unit = Number.parseInt(hex, 16);
          if (!escapedAsU(unit) || hex !== hex.toLowerCase()) this.canonical = false;
          out += String.fromCharCode(unit);
          this.i += 4;
          break;
        }
        default:
          this.i -= 2;
          this.fail('bad escape');
      }
      start = this.i;
    }
  }
}

/** Whether ensure_ascii writes this UTF-16 code unit as `\uXXXX` (not as itself or a short form). */
function escapedAsU(unit: number): boolean {
  if (unit >= 0x20 && unit <= 0x7e) return false;
  return unit !== 0x08 && unit !== 0x09 && unit !== 0x0a && unit !== 0x0c && unit !== 0x0d;
}
