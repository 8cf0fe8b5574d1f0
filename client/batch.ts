/**
 * The gets of one tick for one server, which the client sends as one
 * multi-key request per part: each key once, with every caller who asked
 * for it.
 *
 * @module
 */
import type { SentKey } from "../protocol/keys.ts";
import { pending, rejectLast, resolveLast } from "../connection/promises.ts";

/** A caller who asked for a key that was in the batch already. */
export interface Waiter {
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** A caller who asked again for the key at `at` in a part. */
export interface Repeat extends Waiter {
  at: number;
}

/**
 * The keys of one request of a batch. Its promise settles once for all of
 * them, with what each key's first caller gets, by the key's place in the
 * part: a caller's promise is derived from it, which costs far fewer
 * objects than a promise with resolving functions of its own.
 */
export interface Part {
  /** The outcome of each key, by its place in the part. */
  promise: Promise<unknown[]>;
  resolve(values: unknown[]): void;
  reject(err: unknown): void;
  /** Callers who asked for one of the part's keys again in the tick. */
  repeats?: Repeat[];
}

/** Bits in a batch's filter of keys seen. */
const FILTER_BITS = 1024;

/** Past this many keys, repeats are looked up in a Map: the filter is too full to help. */
const SCAN_LIMIT = 128;

/**
 * The keys of one tick's gets to one server, in the order first asked, in
 * parts of up to `partSize` keys, each part one request.
 *
 * Most batches hold no key twice, and a Map to find repeats costs more per
 * get than the rest of the call. So each key's hash sets a bit in a small
 * filter: a clear bit proves the key is new, and only a set one sends
 * {@linkcode find} through the keys with the same hash.
 *
 * @example
 * ```ts
 * import { Batch } from "./batch.ts";
 * const batch = new Batch(100);
 * batch.find("k"); // -1
 * batch.add("k", "k"); // 0
 * batch.find("k"); // 0
 * ```
 */
export class Batch {
  /** The keys as the callers gave them, each once, in the order first asked. */
  readonly keys: string[] = [];
  /** The same keys as sent: prefixed and encoded. */
  readonly sent: SentKey[] = [];
  /** The parts: keys `[i * partSize, (i + 1) * partSize)` are part `i`'s. */
  readonly parts: Part[] = [];
  readonly partSize: number;
  readonly #hashes: number[] = [];
  readonly #filter: number[] = new Array(FILTER_BITS / 32).fill(0);
  #index?: Map<string, number>;
  /** The hash of the key last given to {@linkcode find}. */
  #hash = 0;

  /** Makes an empty batch whose parts hold up to `partSize` keys. */
  constructor(partSize: number) {
    this.partSize = partSize;
  }

  /** The position of `key` when it is in the batch already, else -1. */
  find(key: string): number {
    if (this.#index) return this.#index.get(key) ?? -1;
    // FNV-1a over the UTF-16 code units.
    let hash = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 16777619);
    this.#hash = hash;
    const bit = (hash >>> 0) % FILTER_BITS;
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    if ((this.#filter[word] & mask) === 0) {
      this.#filter[word] |= mask;
      return -1;
    }
    const hashes = this.#hashes;
    for (let i = 0; i < hashes.length; i++) {
      if (hashes[i] === hash && this.keys[i] === key) return i;
    }
    return -1;
  }

  /** The part of the key at position `at`. */
  partOf(at: number): Part {
    return this.parts[(at / this.partSize) | 0];
  }

  /** The place of the key at position `at` in its part. */
  placeOf(at: number): number {
    return at % this.partSize;
  }

  /**
   * Adds a key that {@linkcode find} just did not find, with the key as
   * sent; returns its position. A key that starts a part makes the part.
   */
  add(key: string, sent: SentKey): number {
    const at = this.keys.length;
    this.keys.push(key);
    this.sent.push(sent);
    if (this.placeOf(at) === 0) {
      const promise = pending<unknown[]>();
      this.parts.push({ promise, resolve: resolveLast, reject: rejectLast });
    }
    if (this.#index) {
      this.#index.set(key, at);
      return at;
    }
    this.#hashes.push(this.#hash);
    if (this.keys.length >= SCAN_LIMIT) {
      this.#index = new Map(this.keys.map((k, i) => [k, i]));
    }
    return at;
  }
}
