/**
 * The gets of one tick for one server, which the client sends as one
 * multi-key request: each key once, with every caller who asked for it.
 *
 * @module
 */
import type { SentKey } from "./protocol/keys.ts";

/** A caller waiting for a batched get. */
export interface Waiter {
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** A key in a batch, with its first caller. */
export interface Batched extends Waiter {
  /** The key as the caller gave it. */
  key: string;
  /** Callers after the first who asked for the same key in the tick. */
  more?: Waiter[];
}

/** Bits in a batch's filter of keys seen. */
const FILTER_BITS = 1024;

/** Past this many keys, repeats are looked up in a Map: the filter is too full to help. */
const SCAN_LIMIT = 128;

/**
 * The keys of one tick's gets to one server, in the order first asked.
 *
 * Most batches hold no key twice, and a Map to find repeats costs more per
 * get than the rest of the call. So each key's hash sets a bit in a small
 * filter: a clear bit proves the key is new, and only a set one sends
 * {@linkcode find} through the keys with the same hash.
 *
 * @example
 * ```ts
 * import { Batch } from "./batch.ts";
 * const batch = new Batch();
 * const waiter = { resolve() {}, reject() {} };
 * batch.find("k") ?? batch.add({ key: "k", ...waiter }, "k");
 * batch.find("k")?.key; // "k"
 * ```
 */
export class Batch {
  /** The keys, each once, in the order first asked. */
  readonly entries: Batched[] = [];
  /** The same keys as sent: prefixed and encoded. */
  readonly sent: SentKey[] = [];
  readonly #hashes: number[] = [];
  readonly #filter: number[] = new Array(FILTER_BITS / 32).fill(0);
  #index?: Map<string, Batched>;
  /** The hash of the key last given to {@linkcode find}. */
  #hash = 0;

  /** The entry of `key`, when it is in the batch already. */
  find(key: string): Batched | undefined {
    if (this.#index) return this.#index.get(key);
    // FNV-1a over the UTF-16 code units.
    let hash = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 16777619);
    this.#hash = hash;
    const bit = (hash >>> 0) % FILTER_BITS;
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    if ((this.#filter[word] & mask) === 0) {
      this.#filter[word] |= mask;
      return undefined;
    }
    const hashes = this.#hashes;
    for (let i = 0; i < hashes.length; i++) {
      if (hashes[i] === hash && this.entries[i].key === key) return this.entries[i];
    }
    return undefined;
  }

  /** Adds the entry of a key that {@linkcode find} just did not find, and the key as sent. */
  add(entry: Batched, sent: SentKey): void {
    this.entries.push(entry);
    this.sent.push(sent);
    if (this.#index) {
      this.#index.set(entry.key, entry);
      return;
    }
    this.#hashes.push(this.#hash);
    if (this.entries.length >= SCAN_LIMIT) {
      this.#index = new Map(this.entries.map((e) => [e.key, e]));
    }
  }
}
