/**
 * {@linkcode Reader}: how the client reads values. Single gets, the gets of
 * one tick sent as one multi-key request per server, and multi-key gets,
 * with the values decoded in the order asked.
 *
 * @module
 */
import { Batch, type Part, type Repeat, type Waiter } from "./batch.ts";
import type { Codec } from "../codec/mod.ts";
import { CacheMiss, MemcachedError, UnreadableValue } from "../errors.ts";
import type { CallOptions } from "./options.ts";
import { pending, rejectLast, resolveLast } from "../connection/promises.ts";
import type { SentKey } from "../protocol/keys.ts";
import { Status } from "../protocol/status.ts";
import { decodeKey } from "../protocol/text.ts";
import type { Item } from "../protocol/reply.ts";
import type { Answer } from "../protocol/wire.ts";
import { settle } from "../cluster/outcomes.ts";
import { onlyItem } from "./results.ts";
import { type Cluster, noServer } from "../cluster/mod.ts";
import type { Mode, Router } from "../cluster/router.ts";
import type { KeyEncoder } from "./keys.ts";

/** Keys per `get` command in a multi-get, so no command line grows without bound. */
const KEYS_PER_GET = 100;

/**
 * The KEYS_PER_GET items of `list` from `from` on: `list` itself when it
 * fits in one request (the lists passed here are not changed afterwards).
 */
function requestOf<T>(list: T[], from: number): T[] {
  return list.length <= KEYS_PER_GET ? list : list.slice(from, from + KEYS_PER_GET);
}

/**
 * Reads values through a {@linkcode Router}: decodes them with a
 * {@linkcode Codec}, and batches the gets of one tick.
 */
export class Reader {
  readonly #router: Router;
  readonly #codec: Codec;
  readonly #cluster: Cluster;
  readonly #keys: KeyEncoder;
  /**
   * Gets waiting for this tick's batch, by server index. Every server always
   * has one, empty until a get comes, so that a get never finds a missing
   * batch: on JavaScriptCore that case makes the optimized code of every
   * get bail out.
   */
  readonly #batches: Batch[];
  /** Whether this tick's batches are due to be sent. */
  #batching = false;
  /**
   * {@linkcode #sendBatches}, bound once: a closure made in a per-get method
   * would cost every get a scope object, made or not.
   */
  readonly #sendNow = () => this.#sendBatches();

  /** Makes a reader of `cluster`'s servers, through `router`, with `keys` and `codec`. */
  constructor(router: Router, cluster: Cluster, codec: Codec, keys: KeyEncoder) {
    this.#router = router;
    this.#cluster = cluster;
    this.#codec = codec;
    this.#keys = keys;
    this.#batches = cluster.names.map(() => new Batch(KEYS_PER_GET));
  }

  /** `Client.getMulti`: the hits among `keys`, in the order asked. */
  async multi<T>(
    keys: Iterable<string>,
    options: CallOptions | undefined,
  ): Promise<Map<string, T>> {
    // Indexed loops: iterator protocol costs show at 100 keys per call. A
    // key listed twice is asked for twice (its value is the same): weeding
    // out repeats with a set costs more per key than the rest of the call.
    const all = Array.isArray(keys) ? keys.slice() : [...keys];
    const encoded: SentKey[] = new Array(all.length);
    for (let i = 0; i < all.length; i++) encoded[i] = this.#keys.sent(all[i], "getMulti");
    const errors = new Map<string, MemcachedError>();
    // Each batch knows where its keys stand in `all`, so that hits land in
    // the order asked without a lookup by key.
    const batches: { index: number; at: number[] }[] = [];
    for (const [index, group] of this.#cluster.group(all, encoded, "getMulti", errors)) {
      for (let i = 0; i < group.length; i += KEYS_PER_GET) {
        batches.push({ index, at: requestOf(group, i) });
      }
    }
    const outcomes = await Promise.allSettled(
      batches.map(({ index, at }) =>
        this.#multiGet(
          "getMulti",
          undefined,
          options,
          index,
          "read",
          // A batch of every key has them all in order.
          at.length === all.length ? encoded : at.map((p) => encoded[p]),
        )
      ),
    );
    // Each hit is decoded into its key's place; a miss leaves MISS there.
    const values: unknown[] = new Array(all.length).fill(MISS);
    const inflating: Promise<void>[] = [];
    let strays: Map<string, number> | undefined;
    for (let b = 0; b < outcomes.length; b++) {
      const outcome = outcomes[b];
      const at = batches[b].at;
      if (outcome.status === "rejected") {
        for (let j = 0; j < at.length; j++) errors.set(all[at[j]], outcome.reason);
        continue;
      }
      const items = outcome.value;
      for (let j = 0; j < items.length; j++) {
        const item = items[j];
        let i = item.index === undefined ? undefined : at[item.index];
        if (i === undefined) {
          // An item out of order names its key: find it by name.
          strays ??= this.#positions(all);
          i = strays.get(decodeKey(item.key));
          if (i === undefined) continue;
        }
        const key = all[i];
        try {
          const value = this.decode(item, "getMulti", key);
          if (!(value instanceof Promise)) values[i] = value;
          else inflating.push(placeLater(value, values, i, errors, key));
        } catch (err) {
          errors.set(key, err as MemcachedError);
        }
      }
    }
    if (inflating.length) await Promise.all(inflating);
    const results = new Map<string, T>();
    for (let i = 0; i < all.length; i++) {
      if (values[i] !== MISS) results.set(all[i], values[i] as T);
    }
    const total = errors.size === 0 ? all.length : new Set(all).size;
    return settle(results, errors, "getMulti", total);
  }

  /**
   * One multi-key get to server `index`, in the form its protocol gives a
   * retrieval of these keys (see the wires in protocol/).
   */
  #multiGet(
    operation: string,
    key: string | undefined,
    options: CallOptions | undefined,
    index: number,
    mode: Mode,
    keys: SentKey[],
  ): Promise<Item[]> {
    return this.#router.run(operation, key, options, index, mode, { kind: "retrieve", keys }, hits);
  }

  /** Adds a get to this tick's batch for its server. */
  batched(key: string): Promise<unknown> {
    let k: SentKey;
    try {
      k = this.#keys.sent(key, "get");
    } catch (err) {
      return Promise.reject(err);
    }
    const index = this.#cluster.indexFor(k);
    if (index < 0) {
      return Promise.reject(noServer("get", key));
    }
    if (!this.#batching) {
      this.#batching = true;
      queueMicrotask(this.#sendNow);
    }
    const batch = this.#batches[index];
    const at = batch.find(key);
    if (at < 0) {
      const added = batch.add(key, k);
      return batch.partOf(added).promise.then(pickers[batch.placeOf(added)]);
    }
    const promise = pending();
    (batch.partOf(at).repeats ??= []).push({
      at: batch.placeOf(at),
      resolve: resolveLast,
      reject: rejectLast,
    });
    return promise;
  }

  /** Sends every batched get: one request per server and part. */
  #sendBatches(): void {
    const batches = this.#batches;
    this.#batching = false;
    for (let index = 0; index < batches.length; index++) {
      const batch = batches[index];
      if (batch.keys.length === 0) continue;
      batches[index] = new Batch(KEYS_PER_GET);
      for (let p = 0; p < batch.parts.length; p++) {
        const part = batch.parts[p];
        const keys = requestOf(batch.keys, p * batch.partSize);
        const sent = requestOf(batch.sent, p * batch.partSize);
        this.#multiGet(
          "get",
          keys.length === 1 ? keys[0] : undefined,
          undefined,
          index,
          "one",
          sent,
        )
          .then((items) => this.#deliver(part, keys, items), (err) => failPart(part, err));
      }
    }
  }

  /**
   * Settles a part: its promise with the outcome of each key, by place (see
   * {@linkcode pick}), and each caller who asked for a key again with a
   * value decoded for it alone.
   */
  #deliver(part: Part, keys: string[], items: Item[]): void {
    const outcomes: unknown[] = new Array(keys.length);
    // The item at each place, kept only for callers who asked again.
    const found: Item[] | undefined = part.repeats && new Array(keys.length);
    let strays: Map<string, number> | undefined;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      let at = item.index;
      if (at === undefined) {
        // An item out of order names its key: find its place by name.
        strays ??= this.#positions(keys);
        at = strays.get(decodeKey(item.key));
        if (at === undefined) continue;
      }
      outcomes[at] = this.#outcome(item, keys[at]);
      if (found) found[at] = item;
    }
    if (part.repeats) this.#giveRepeats(part.repeats, keys, found!);
    part.resolve(outcomes);
  }

  /** Gives each caller who asked for a key again a value of its own, decoded again. */
  #giveRepeats(repeats: Repeat[], keys: string[], found: Item[]): void {
    for (const repeat of repeats) {
      const item = found[repeat.at];
      this.#give(keys[repeat.at], item && { ...item, value: item.value.slice() }, repeat);
    }
  }

  /** The place of each of `keys` by the name it is sent with, which an item out of order names. */
  #positions(keys: readonly string[]): Map<string, number> {
    const prefix = this.#keys.prefix;
    return new Map(keys.map((key, at) => [prefix + key, at]));
  }

  /**
   * What a key's first caller gets from a hit: its decoded value, a promise
   * of it when it must be inflated, or the Failed decoding it was.
   */
  #outcome(item: Item, key: string): unknown {
    try {
      const value = this.decode(item, "get", key);
      return value instanceof Promise ? value.then(unmiss) : unmiss(value);
    } catch (err) {
      return new Failed(err);
    }
  }

  /**
   * Settles one waiter with its own decoded value (or `undefined` for a
   * miss); a value still to be inflated settles it once it is.
   */
  #give(key: string, item: Item | undefined, waiter: Waiter): void {
    const outcome = item && this.#outcome(item, key);
    if (outcome instanceof Failed) waiter.reject(outcome.error);
    else waiter.resolve(outcome);
  }

  /**
   * A single-key read: `get`, `gets` (with `cas`) or `getAndTouch` (with
   * `ttl`); `options` are checked already.
   */
  async one(
    operation: string,
    key: string,
    options: CallOptions | undefined,
    mode: Mode,
    shape: { cas?: boolean; ttl?: number },
  ) {
    const k = this.#keys.key(key, operation);
    const item = await this.#router.run(
      operation,
      key,
      options,
      k,
      mode,
      { kind: "retrieve", keys: [k], ...shape },
      (answer, fail) => onlyItem(answer, k, fail),
    );
    if (!item) return undefined;
    const value = await this.decode(item, operation, key);
    return value === MISS ? undefined : { value, cas: item.cas };
  }

  /**
   * The value of an item, or MISS when a custom deserializer says so. It is a
   * promise only when the value must be decompressed, so that reads of plain
   * values settle without extra turns of the event loop.
   */
  decode(item: Item, operation: string, key: string): unknown {
    try {
      const value = item.text !== undefined
        ? this.#codec.decodeText(item.text, item.flags)
        : this.#codec.decode(item.value, item.flags);
      return value instanceof Promise ? decodedLater(value, operation, key) : value;
    } catch (err) {
      return decodeFailure(err, operation, key);
    }
  }
}

/** What {@linkcode Reader.decode} gives for a value its deserializer calls a miss. */
export const MISS: unique symbol = Symbol("miss");

// The closures of the functions below live outside the per-get methods and
// loops that call them: a closure in a function or loop body costs each call
// or iteration a scope object on JavaScriptCore, whether it is made or not.

/** The hits of a retrieval. */
function hits(answer: Answer, fail: () => MemcachedError): Item[] {
  if (answer.status !== Status.END) throw fail();
  return answer.items!;
}

/** A key's decoding failed: its first caller's promise rejects with `error`. */
class Failed {
  constructor(readonly error: unknown) {}
}

/**
 * The outcome of the key at `at` in a part's outcomes: its value,
 * `undefined` for a miss, or the error its decoding was, thrown.
 */
function pick(outcomes: unknown[], at: number): unknown {
  const outcome = outcomes[at];
  if (outcome instanceof Failed) throw outcome.error;
  return outcome;
}

/**
 * {@linkcode pick} for each place in a part, made once: a get's promise is
 * the part's promise then its picker, with no closure of its own.
 */
const pickers = Array.from(
  { length: KEYS_PER_GET },
  (_, at) => (outcomes: unknown[]) => pick(outcomes, at),
);

/** The value of an inflated item, `undefined` for one its deserializer calls a miss. */
function unmiss(value: unknown): unknown {
  return value === MISS ? undefined : value;
}

/** Fails every caller of a part whose request failed. */
function failPart(part: Part, err: unknown): void {
  part.reject(err);
  if (part.repeats) { for (const repeat of part.repeats) repeat.reject(err); }
}

/** Puts `value` at `values[place]` once inflated and decoded, or its error in `errors`. */
function placeLater(
  value: Promise<unknown>,
  values: unknown[],
  place: number,
  errors: Map<string, MemcachedError>,
  key: string,
): Promise<void> {
  return value.then(
    (inflated) => void (values[place] = inflated),
    (err) => void errors.set(key, err as MemcachedError),
  );
}

/** `value` once inflated and decoded, or the error its decoding is. */
function decodedLater(value: Promise<unknown>, operation: string, key: string): Promise<unknown> {
  return value.catch((err) => decodeFailure(err, operation, key));
}

/**
 * MISS when a deserializer threw CacheMiss; otherwise UnreadableValue (or the
 * client's own error a decode met), naming the call and key.
 */
function decodeFailure(err: unknown, operation: string, key: string): typeof MISS {
  if (err instanceof CacheMiss) return MISS;
  if (err instanceof MemcachedError) {
    const Class = err.constructor as typeof MemcachedError;
    throw new Class(err.detail, { status: err.status, operation, key, cause: err.cause });
  }
  throw new UnreadableValue(`cannot decode the value: ${String(err)}`, {
    operation,
    key,
    cause: err,
  });
}
