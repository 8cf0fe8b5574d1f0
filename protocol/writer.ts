/**
 * A growable byte buffer that requests are encoded into, reused from one
 * write to the next so that encoding allocates nothing on the hot path.
 *
 * @module
 */
import type { SentKey } from "./keys.ts";

/**
 * Appends ASCII text, bytes and big-endian integers to one buffer.
 *
 * @example
 * ```ts
 * import { ByteWriter } from "./writer.ts";
 * const w = new ByteWriter();
 * w.ascii("version\r\n");
 * w.view(); // the 9 bytes of "version\r\n"
 * ```
 */
export class ByteWriter {
  #buf: Uint8Array;
  /** How many bytes have been written since the last {@linkcode reset}. */
  length = 0;

  /** Makes a writer whose buffer starts at `capacity` bytes. */
  constructor(capacity = 16 * 1024) {
    this.#buf = new Uint8Array(capacity);
  }

  #reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#buf.subarray(0, this.length));
    this.#buf = grown;
  }

  /** Appends a string of ASCII characters, one byte each. */
  ascii(text: string): void {
    this.#reserve(text.length);
    const buf = this.#buf;
    let at = this.length;
    for (let i = 0; i < text.length; i++) buf[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /** Appends bytes. */
  bytes(bytes: Uint8Array): void {
    const n = bytes.length;
    this.#reserve(n);
    if (n > 32) {
      this.#buf.set(bytes, this.length);
    } else {
      // A key: a plain loop beats set()'s fixed cost at this size.
      const buf = this.#buf;
      for (let i = 0, at = this.length; i < n; i++) buf[at++] = bytes[i];
    }
    this.length += n;
  }

  /** Appends a key: its bytes, or the characters of a {@linkcode SentKey} string, one byte each. */
  key(key: SentKey): void {
    if (typeof key === "string") this.ascii(key);
    else this.bytes(key);
  }

  /** Appends an unsigned integer of `size` bytes (1, 2 or 4), big-endian. */
  uint(value: number, size: 1 | 2 | 4): void {
    this.#reserve(size);
    const buf = this.#buf;
    for (let i = size - 1; i >= 0; i--) buf[this.length++] = (value >>> (8 * i)) & 0xff;
  }

  /** Appends an unsigned 64-bit integer, big-endian. */
  uint64(value: bigint): void {
    this.uint(Number((value >> 32n) & 0xffffffffn), 4);
    this.uint(Number(value & 0xffffffffn), 4);
  }

  /** The bytes written so far; valid until the next write or reset. */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.length);
  }

  /** Forgets what was written, keeping the buffer for reuse. */
  reset(): void {
    this.length = 0;
  }
}
