/**
 * How ASCII bytes become strings: the one strategy interface a text decoder
 * takes, so that a runtime's faster reader (see `transport/`) can be given
 * without importing a decoder.
 *
 * @module
 */

/**
 * A runtime's native way to read ASCII bytes into strings, for the values
 * the text decoder reads together: `isAscii` tells whether `bytes[from,
 * to)` is all ASCII, and `text` makes those bytes a string of its own (one
 * that shares memory with no other string), so that each value is copied
 * out of the reply once. Without one, the decoder reads the run of values
 * as one string and copies each value out of it (see {@linkcode ownSlice}).
 *
 * @example
 * ```ts
 * import type { AsciiText } from "./ascii.ts";
 * const decoder = new TextDecoder();
 * const viaDecoder: AsciiText = {
 *   isAscii: (bytes, from, to) => bytes.subarray(from, to).every((b) => b < 0x80),
 *   text: (bytes, from, to) => decoder.decode(bytes.subarray(from, to)),
 * };
 * ```
 */
export interface AsciiText {
  /** Whether `bytes[from, to)` is all ASCII. */
  isAscii(bytes: Uint8Array, from: number, to: number): boolean;
  /** The ASCII bytes `bytes[from, to)` as a string of its own. */
  text(bytes: Uint8Array, from: number, to: number): string;
}
