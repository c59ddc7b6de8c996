/**
 * JSON whose objects keep their key order. A state is an ordered map, and a
 * plain object would not keep it: integer-like keys ("2") move to the front
 * and `__proto__` is special. Objects parse to `Map`s here, and `toJson`
 * writes a `Map` as an object in its order.
 */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export type JsonObject = Map<string, Json>;

/** A key written twice in one object: JSON.parse would keep the last silently. */
export class DuplicateKeyError extends Error {
  constructor(readonly key: string) {
    super(`key ${JSON.stringify(key)} appears twice`);
    this.name = 'DuplicateKeyError';
  }
}

const NUMBER_OR_LITERAL = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

/**
 * Parses JSON text, objects as `Map`s in the order written. Throws
 * JSON.parse's SyntaxError for bad text, DuplicateKeyError for a repeated key,
 * RangeError for nesting too deep for the stack.
 */
export function parseOrdered(text: string): Json {
  // JSON.parse checks the syntax (with its messages); the walk below may then
  // assume well-formed text.
  JSON.parse(text);
  let i = 0;
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else return;
    }
  };
  const string = (): string => {
    const from = i;
    i++; // the opening quote
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      i += c === 0x5c ? 2 : 1;
    }
    i++;
    return JSON.parse(text.slice(from, i)) as string;
  };
  const value = (): Json => {
    ws();
    const c = text[i];
    if (c === '"') return string();
    if (c === '{') {
      i++;
      const map: JsonObject = new Map();
      ws();
      if (text[i] === '}') {
        i++;
        return map;
      }
      for (;;) {
        ws();
        const key = string();
        if (map.has(key)) throw new DuplicateKeyError(key);
        ws();
        i++; // ':'
        map.set(key, value());
        ws();
        if (text[i++] === '}') return map;
      }
    }
    if (c === '[') {
      i++;
      const list: Json[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return list;
      }
      for (;;) {
        list.push(value());
        ws();
        if (text[i++] === ']') return list;
      }
    }
    NUMBER_OR_LITERAL.lastIndex = i;
    const m = NUMBER_OR_LITERAL.exec(text) as RegExpExecArray;
    i += m[0].length;
    return JSON.parse(m[0]) as Json;
  };
  return value();
}

/**
 * JSON text of `value` on one line: a `Map` as an object in its key order,
 * plain objects and arrays as JSON.stringify writes them (fields that are
 * `undefined` left out).
 */
export function toJson(value: unknown): string {
  if (value instanceof Map) {
    const parts: string[] = [];
    for (const [k, v] of value) {
      if (v !== undefined) parts.push(`${JSON.stringify(String(k))}:${toJson(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : toJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) parts.push(`${JSON.stringify(k)}:${toJson(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What a JSON value is, for messages: "a number", "an object", "null". */
export function jsonKind(value: Json): string {
  if (value === null) return 'null';
  if (value instanceof Map) return 'an object';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'number'
    ? 'a number'
    : typeof value === 'boolean'
      ? 'a boolean'
      : 'a string';
}
