/**
 * {@linkcode Leftover}: the bytes of a reply that has not all arrived,
 * kept for the next chunk.
 *
 * @module
 */

/** The unparsed end of what a socket delivered. */
export class Leftover {
  #bytes = new Uint8Array(0);
  #length = 0;

  /** Whether nothing is left over. */
  get empty(): boolean {
    return this.#length === 0;
  }

  /** `chunk`, after what was left of earlier chunks. */
  join(chunk: Uint8Array): Uint8Array {
    if (this.#length === 0) return chunk;
    this.#append(chunk, 0, chunk.length);
    return this.#bytes.subarray(0, this.#length);
  }

  /** Keeps `buf[from…]` (`buf` from {@linkcode join}), the start of a reply still arriving. */
  keep(buf: Uint8Array, from: number): void {
    if (buf.buffer === this.#bytes.buffer) {
      this.#bytes.copyWithin(0, from, buf.length);
      this.#length = buf.length - from;
    } else if (from < buf.length) {
      this.#append(buf, from, buf.length);
    }
  }

  /** Drops what was left over (its socket is gone). */
  clear(): void {
    this.#length = 0;
  }

  #append(bytes: Uint8Array, from: number, to: number): void {
    const need = this.#length + to - from;
    if (need > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(need, this.#bytes.length * 2, 4096));
      grown.set(this.#bytes.subarray(0, this.#length));
      this.#bytes = grown;
    }
    this.#bytes.set(bytes.subarray(from, to), this.#length);
    this.#length = need;
  }
}
