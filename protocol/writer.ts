/**
 * A growable byte buffer that requests are encoded into, reused from one
 * write to the next so that encoding allocates nothing on the hot path.
 *
 * @module
 */
import type { SentKey } from "./keys.ts";

/**
 * The data block of a storage command: its bytes, or text to be sent as its
 * UTF-8, which the writer encodes straight into its buffer.
 */
export type DataBlock = Uint8Array | string;

const utf8 = new TextEncoder();

/** Text up to this many characters is copied by a loop; longer text by encodeInto. */
const SHORT_TEXT = 64;

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

  /**
   * Appends what `head` writes for the block's size in bytes, then the
   * block. Text is taken for ASCII first, one byte per character, encoded
   * straight into the buffer; text that is not all ASCII is written again,
   * head and all, from its UTF-8 bytes.
   *
   * @example
   * ```ts
   * import { ByteWriter } from "./writer.ts";
   * const w = new ByteWriter();
   * w.block("héllo", (size) => w.ascii(`${size}\r\n`));
   * new TextDecoder().decode(w.view()); // "6\r\nhéllo"
   * ```
   */
  block(data: DataBlock, head: (size: number) => void): void {
    if (typeof data !== "string") {
      head(data.length);
      this.bytes(data);
      return;
    }
    const start = this.length;
    head(data.length);
    this.#reserve(data.length);
    if (this.#asciiInto(data)) return;
    this.length = start;
    const bytes = utf8.encode(data);
    head(bytes.length);
    this.bytes(bytes);
  }

  /** Appends `text` when it is all ASCII and says so; else writes nothing and says not. */
  #asciiInto(text: string): boolean {
    const buf = this.#buf;
    const at = this.length;
    if (text.length <= SHORT_TEXT) {
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) return false;
        buf[at + i] = c;
      }
    } else if (utf8.encodeInto(text, buf.subarray(at, at + text.length)).read !== text.length) {
      // With room for one byte per character, all of them fit only when all are ASCII.
      return false;
    }
    this.length = at + text.length;
    return true;
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
