/**
 * Key validation and encoding for the text protocol.
 *
 * A text-protocol key is 1 to 250 bytes of UTF-8 with no whitespace or
 * control characters: one space or CR LF inside a key would split the command
 * and let the rest of the key run as a command of its own.
 *
 * @module
 */

import { allocate } from "./slab.ts";

/** The longest key memcached accepts, in bytes. */
export const MAX_KEY_LENGTH = 250;

const utf8 = new TextEncoder();

/**
 * A key as sent: its UTF-8 bytes, or, for a key of printable ASCII only,
 * the string itself, whose characters are its bytes (see
 * {@linkcode textKey}): such a key is written and compared without an
 * array of its own.
 */
export type SentKey = Uint8Array | string;

/**
 * The key (with `prefix` in front) as a string that is its own encoding,
 * when it is 1 to 250 characters of printable ASCII; else `undefined`, and
 * {@linkcode encodeKey} tells its bytes or what is wrong with it.
 *
 * @example
 * ```ts
 * import { textKey } from "./keys.ts";
 * textKey("user:1", "app:"); // "app:user:1"
 * textKey("café", ""); // undefined: not ASCII
 * ```
 */
export function textKey(key: string, prefix: string): string | undefined {
  if (typeof key !== "string") return undefined;
  // Without a prefix the key itself: JavaScriptCore makes a new string of "" + key.
  const full = prefix === "" ? key : prefix + key;
  if (full.length === 0 || full.length > MAX_KEY_LENGTH) return undefined;
  for (let i = 0; i < full.length; i++) {
    const c = full.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return undefined;
  }
  return full;
}

/**
 * The bytes of a sent key.
 *
 * @example
 * ```ts
 * import { keyBytes } from "./keys.ts";
 * keyBytes("k1"); // Uint8Array [107, 49]
 * ```
 */
export function keyBytes(key: SentKey): Uint8Array {
  if (typeof key !== "string") return key;
  const bytes = allocate(key.length);
  for (let i = 0; i < key.length; i++) bytes[i] = key.charCodeAt(i);
  return bytes;
}

/**
 * The key (with `prefix` in front) as UTF-8 bytes, or a string saying why it
 * cannot be sent.
 *
 * @example
 * ```ts
 * import { encodeKey } from "./keys.ts";
 * encodeKey("user:1", "app:"); // Uint8Array of "app:user:1"
 * encodeKey("a\r\nflush_all", ""); // "contains a control character ..."
 * ```
 */
export function encodeKey(key: string, prefix: string): Uint8Array | string {
  // Most keys are printable ASCII: their characters are their bytes, with
  // no TextEncoder call. Any other key gets the full check.
  const ascii = textKey(key, prefix);
  if (ascii !== undefined) return keyBytes(ascii);
  const full = prefix + key;
  if (full.length === 0) return "is empty";
  for (let i = 0; i < full.length; i++) {
    const c = full.charCodeAt(i);
    if (c <= 0x20 || (c >= 0x7f && c <= 0xa0)) {
      return `contains ${describe(c)} at index ${i}`;
    }
    if (c > 0xa0 && INVISIBLE.test(full[i])) {
      const code = c.toString(16).toUpperCase().padStart(4, "0");
      return `contains a Unicode space or format character (U+${code}) at index ${i}`;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const pair = c <= 0xdbff && i + 1 < full.length &&
        (full.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (!pair) return `contains a lone surrogate at index ${i}`;
      i++;
    }
  }
  const bytes = utf8.encode(full);
  if (bytes.length > MAX_KEY_LENGTH) {
    return `is too long: ${bytes.length} bytes, max is ${MAX_KEY_LENGTH}`;
  }
  return bytes;
}

/**
 * Unicode's spaces, line and paragraph separators, and invisible format
 * characters (zero-width space, byte order mark, bidi marks): a reader
 * cannot see them in a key, and they are whitespace to other tools.
 */
const INVISIBLE = /[\s\p{Cf}]/u;

function describe(code: number): string {
  if (code === 0x20) return "a space";
  if (code === 0xa0) return "a no-break space";
  return `a control character (U+${code.toString(16).toUpperCase().padStart(4, "0")})`;
}

/**
 * The key (with `prefix` in front) as UTF-8 bytes for the meta protocol's
 * base64 mode, where any character may appear: only emptiness, length
 * (1 to 250 bytes) and lone surrogates are refused.
 */
export function encodeBinaryKey(key: string, prefix: string): Uint8Array | string {
  const full = prefix + key;
  if (full.length === 0) return "is empty";
  if (!full.isWellFormed()) return "contains a lone surrogate";
  const bytes = utf8.encode(full);
  if (bytes.length > MAX_KEY_LENGTH) {
    return `is too long: ${bytes.length} bytes, max is ${MAX_KEY_LENGTH}`;
  }
  return bytes;
}

/** Whether two keys as sent are the same bytes. */
export function sameKey(a: SentKey, b: SentKey): boolean {
  if (a === b) return true;
  const x = keyBytes(a);
  const y = keyBytes(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** The base64 of a key's bytes, as the meta protocol's `b` flag sends it. */
export function base64Key(key: SentKey): Uint8Array {
  let binary = "";
  for (const byte of keyBytes(key)) binary += String.fromCharCode(byte);
  return utf8.encode(btoa(binary));
}
