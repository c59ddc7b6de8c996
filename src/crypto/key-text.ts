/** A network key as configured: 16 bytes written as 32 hex characters. */
export const KEY_HEX_CHARS = 32;

const HEX = /^[0-9a-fA-F]$/;

/**
 * Why `hex` is not a network key, as the end of a sentence that starts with
 * the field's name: "must be 32 hex characters: 'g' at position 5 is not
 * hex", or, for the wrong length, "must be 32 hex characters (16 bytes), got
 * 30 characters" (and the first character that is not hex, if any: a key
 * read from a file often ends in '\n'). Positions and lengths count
 * characters (code points) from 1. Only one character of the key is ever
 * shown — a mistyped key is often most of the real one. Returns '' for a
 * valid key.
 */
export function describeBadKey(hex: string): string {
  const chars = [...hex];
  const at = chars.findIndex((c) => !HEX.test(c));
  const notHex = at < 0 ? '' : `${shown(chars[at] as string)} at position ${at + 1} is not hex`;
  if (chars.length !== KEY_HEX_CHARS) {
    const length = `must be ${KEY_HEX_CHARS} hex characters (16 bytes), got ${chars.length} characters`;
    return notHex ? `${length}; ${notHex}` : length;
  }
  return notHex ? `must be ${KEY_HEX_CHARS} hex characters: ${notHex}` : '';
}

// Characters a reader would not see in quotes: controls, no-break and
// zero-width spaces, bidi marks, the byte order mark (a key file saved on
// Windows may start with one).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const INVISIBLE = /[\u0000-\u001f\u007f-\u00a0\u00ad\u2000-\u200f\u2028-\u202f\u205f-\u206f\ufeff]/;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', "'": "\\'" };

/** A character in quotes, invisible ones escaped ('\n', '\ufeff') so that the message shows them. */
function shown(c: string): string {
  const text =
    SHORT[c] ??
    (INVISIBLE.test(c) ? `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}` : c);
  return `'${text}'`;
}
