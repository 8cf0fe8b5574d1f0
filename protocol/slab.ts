/**
 * Small byte arrays carved out of shared 64 KiB buffers.
 *
 * V8 (Deno, Node, Workers) spends more on a typed array that gets a buffer
 * of its own than the rest of a small request costs, where a view of a
 * shared buffer is cheap. JavaScriptCore (Bun) is the other way round:
 * fresh small arrays are cheap and views cost more. So sharing is a
 * switch, set by the client for the engine it runs on
 * ({@linkcode shareBuffers}).
 *
 * Arrays from here may share their buffer with others, so they are for the
 * client's own use (encoded keys and values, values on their way to a
 * decoder) and are copied before a caller is handed one.
 *
 * @module
 */

const SLAB_SIZE = 64 * 1024;

/** Arrays larger than this get a buffer of their own. */
export const SHARED_MAX = 4 * 1024;

let shared = true;
let slab = new ArrayBuffer(SLAB_SIZE);
let used = 0;

/**
 * Sets whether small arrays are views of shared buffers (the default) or
 * get buffers of their own; returns the setting it replaces.
 *
 * @example
 * ```ts
 * import { shareBuffers } from "./slab.ts";
 * shareBuffers(false); // on JavaScriptCore, where fresh arrays are cheaper
 * ```
 */
export function shareBuffers(on: boolean): boolean {
  const before = shared;
  shared = on;
  return before;
}

/**
 * A zeroed array of `size` bytes, a view of a shared buffer when it is small.
 *
 * @example
 * ```ts
 * import { allocate } from "./slab.ts";
 * const key = allocate(5); // 5 bytes, sharing a buffer with other small arrays
 * ```
 */
export function allocate(size: number): Uint8Array {
  if (!shared || size > SHARED_MAX) return new Uint8Array(size);
  makeRoom(size);
  return take(size);
}

/** Starts a new slab when fewer than `size` bytes are left in this one. */
function makeRoom(size: number): void {
  if (used + size <= SLAB_SIZE) return;
  slab = new ArrayBuffer(SLAB_SIZE);
  used = 0;
}

/** The next `size` bytes of the slab, which has room for them. */
function take(size: number): Uint8Array {
  const out = new Uint8Array(slab, used, size);
  // Eight-byte steps keep every array aligned, as fresh buffers are.
  used = (used + size + 7) & ~7;
  return out;
}

/**
 * A copy of `bytes[from, to)` from {@linkcode allocate}: the way to keep
 * part of a buffer that is about to be reused.
 *
 * @example
 * ```ts
 * import { copyOf } from "./slab.ts";
 * const chunk = new TextEncoder().encode("VALUE k 0 1\r\nx\r\n");
 * copyOf(chunk, 13, 14); // the 1 byte of "x"
 * ```
 */
export function copyOf(bytes: Uint8Array, from: number, to: number): Uint8Array {
  if (!shared) return bytes.slice(from, to);
  const out = allocate(to - from);
  out.set(bytes.subarray(from, to));
  return out;
}

const utf8 = new TextEncoder();

/**
 * `text` as UTF-8, from {@linkcode allocate} when it is small.
 *
 * @example
 * ```ts
 * import { encodeText } from "./slab.ts";
 * encodeText("héllo"); // the 6 bytes of "héllo"
 * ```
 */
export function encodeText(text: string): Uint8Array {
  // Three bytes per UTF-16 unit is the most UTF-8 can take.
  const most = text.length * 3;
  if (!shared || most > SHARED_MAX) return encodeLong(text);
  makeRoom(most);
  return take(utf8.encodeInto(text, new Uint8Array(slab, used, most)).written);
}

/**
 * Long text as UTF-8 in a buffer of its own: encoded into one byte per
 * character first, which it fills exactly when it is all ASCII (then every
 * character fits; one that is not takes two bytes or more). encodeInto
 * costs a tenth of encode for a megabyte on Deno, and half on Bun.
 */
function encodeLong(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  return utf8.encodeInto(text, bytes).read === text.length ? bytes : utf8.encode(text);
}

/**
 * `bytes` when they fill their buffer alone, else a copy that does: what a
 * caller may be handed.
 *
 * @example
 * ```ts
 * import { allocate, owned } from "./slab.ts";
 * const bytes = allocate(3);
 * owned(bytes).buffer.byteLength; // 3
 * ```
 */
export function owned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : bytes.slice();
}
