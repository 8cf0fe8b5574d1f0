/**
 * {@linkcode Writer}: how the client writes. Each write is described once
 * as a request (see protocol/wire.ts) with what its answer means; writes to
 * many keys go to each server as one quiet batch where its protocol has
 * them.
 *
 * @module
 */
import { type Codec, Flags } from "../codec/mod.ts";
import { InvalidArguments, NotFound, SomeErrors, TooBig, UnreadableValue } from "../errors.ts";
import type { StoreVerb } from "../protocol/text.ts";
import type { Handler, Router } from "../cluster/router.ts";
import { Status } from "../protocol/status.ts";
import type { Remove, Store, Touch } from "../protocol/wire.ts";
import type { KeyEncoder } from "./keys.ts";
import {
  CALL,
  type CallOptions,
  checkNames,
  COUNTER,
  type CounterOptions,
  delta as checkDelta,
  type Entries,
  expiry,
  SET,
  type SetOptions,
  STORE,
  storeExpiry,
  type StoreOptions,
  WRITE,
  type WriteOptions,
} from "./options.ts";
import {
  counted,
  type Counter,
  counter,
  deleted,
  isIterable,
  stored,
  storedOrRefused,
  touched,
} from "./results.ts";
import { type Payload, payloadOf } from "./values.ts";

/** Writes through a {@linkcode Router}, encoding keys and values first. */
export class Writer {
  readonly #router: Router;
  readonly #keys: KeyEncoder;
  readonly #codec: Codec;
  readonly #maxValueSize: number;
  readonly #ttl: number;

  /**
   * Makes a writer; values larger than `maxValueSize` once encoded are
   * TooBig, and items stored without a ttl of their own live `ttl` seconds.
   */
  constructor(router: Router, keys: KeyEncoder, codec: Codec, maxValueSize: number, ttl: number) {
    this.#router = router;
    this.#keys = keys;
    this.#codec = codec;
    this.#maxValueSize = maxValueSize;
    this.#ttl = ttl;
  }

  /**
   * Stores one value (and its replicas, but for cas). Not an async function:
   * a store is a hot path, and an async function returning the request's
   * promise would add turns of the event loop between the reply and the
   * caller. Bad arguments still reject.
   */
  store(
    verb: StoreVerb,
    key: string,
    value: unknown,
    options?: StoreOptions,
    cas?: bigint,
  ): Promise<boolean> {
    try {
      const quiet = verb === "set" || verb === "add" || verb === "replace";
      checkNames(options, quiet ? SET : STORE, verb);
      const k = this.#keys.key(key, verb);
      const ttl = storeExpiry(options, this.#ttl);
      const mode = verb === "cas" ? "one" : "write";
      const noreply = quiet && (options as SetOptions | undefined)?.noreply === true;
      const send = ({ data, flags }: Payload) => {
        const request: Store = { kind: "store", verb, key: k, data, flags, ttl, cas };
        return noreply
          ? this.#quietly(verb, key, options, k, request, stored)
          : this.#router.run(verb, key, options, k, mode, request, stored);
      };
      let encoded: Payload | Promise<Payload>;
      try {
        encoded = payloadOf(this.#codec, this.#maxValueSize, verb, key, value);
      } catch (err) {
        return this.#refused(verb, key, k, options, err);
      }
      return encoded instanceof Promise
        ? encoded.then(send, (err) => this.#refused(verb, key, k, options, err))
        : send(encoded);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Fails a store whose value could not be sent. memcached deletes the item
   * when it refuses a value as too big for `set`, so that no stale value is
   * served; a value this client refuses as too big deletes it too, for
   * every write meant to replace what is there. add and cas are conditional:
   * what is there may be newer than what they would have written, so it
   * stays.
   */
  async #refused(
    operation: StoreVerb,
    key: string,
    k: Uint8Array,
    options: CallOptions | undefined,
    err: unknown,
  ): Promise<never> {
    if (err instanceof TooBig && operation !== "add" && operation !== "cas") {
      await this.#forget(operation, key, k, options);
    }
    throw err;
  }

  /** Deletes a key whose new value was refused; a failure to delete changes nothing more. */
  async #forget(
    operation: string,
    key: string,
    k: Uint8Array,
    options: CallOptions | undefined,
  ): Promise<void> {
    await this.#router.run(operation, key, options, k, "write", { kind: "remove", key: k }, deleted)
      .catch(() => {});
  }

  /** Stores every entry; the keys that were not stored. */
  async storeMulti(
    verb: "set" | "add",
    entries: Entries,
    options?: StoreOptions,
  ): Promise<string[]> {
    const operation = `${verb}Multi`;
    checkNames(options, STORE, operation);
    const ttl = storeExpiry(options, this.#ttl);
    const pairs = isIterable(entries) ? [...entries] : Object.entries(entries);
    const keys = new Map<string, Uint8Array>();
    for (const [key] of pairs) keys.set(key, this.#keys.key(key, operation));
    const requests = new Map<string, Store>();
    const refused = new Set<string>();
    for (const [key, value] of pairs) {
      try {
        const { data, flags } = await payloadOf(this.#codec, this.#maxValueSize, verb, key, value);
        requests.set(key, { kind: "store", verb, key: keys.get(key)!, data, flags, ttl });
      } catch (err) {
        if (!(err instanceof TooBig)) throw err;
        refused.add(key);
      }
    }
    // Refused as too big: not stored, and, for set, deleted, as memcached does.
    if (verb === "set") {
      await Promise.all(
        [...refused].map((key) => this.#forget(operation, key, keys.get(key)!, options)),
      );
    }
    let results: Map<string, boolean>;
    try {
      results = requests.size === 0 ? new Map() : await this.#router.writeMany(
        operation,
        requests,
        options,
        (key, request) =>
          this.#router.run(operation, key, options, request.key, "write", request, storedOrRefused),
        storedOrRefused,
      );
    } catch (err) {
      if (err instanceof SomeErrors) { for (const key of refused) err.results.set(key, false); }
      throw err;
    }
    return [...keys.keys()].filter((key) => refused.has(key) || results.get(key) === false);
  }

  /** Deletes one key (and its replicas): `false` when it was missing. */
  async remove(key: string, options?: WriteOptions): Promise<boolean> {
    checkNames(options, WRITE, "delete");
    const k = this.#keys.key(key, "delete");
    const request: Remove = { kind: "remove", key: k };
    return options?.noreply
      ? await this.#quietly("delete", key, options, k, request, deleted)
      : await this.#router.run("delete", key, options, k, "write", request, deleted);
  }

  /**
   * Sends one write as a quiet batch of one, resolving `true` once it is
   * written; its answer, when one comes, is still read (keeping the stream
   * in step), and a failure reaches `onCommand` and the server's health.
   */
  #quietly<R>(
    operation: string,
    key: string,
    options: CallOptions | undefined,
    k: Uint8Array,
    request: Store | Remove | Touch,
    handle: Handler<R>,
  ): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#router.run(
        operation,
        key,
        options,
        k,
        "write",
        { kind: "batch", requests: [request], quiet: true },
        (answer, fail) => {
          // Over text the write went as it is, and this is its own answer.
          if (answer.answers === undefined) return handle(answer, fail);
          if (answer.status !== Status.SUCCESS) throw fail();
          const one = answer.answers.get(0);
          if (one === undefined) return true;
          answer.status = one.status;
          answer.line = one.line;
          return handle(one, fail);
        },
        () => resolve(true),
      ).then(() => resolve(true), reject);
    });
  }

  /** Deletes every key: `true` when every one was deleted. */
  async removeMulti(keys: Iterable<string>, options?: CallOptions): Promise<boolean> {
    checkNames(options, CALL, "deleteMulti");
    const requests = new Map<string, Remove>();
    for (const key of keys) {
      requests.set(key, { kind: "remove", key: this.#keys.key(key, "deleteMulti") });
    }
    const results = await this.#router.writeMany(
      "deleteMulti",
      requests,
      options,
      (key, request) =>
        this.#router.run("deleteMulti", key, options, request.key, "write", request, deleted),
      deleted,
    );
    return [...results.values()].every(Boolean);
  }

  /**
   * Moves a counter; its new value, a `bigint` when `delta` is one or
   * `options.bigint` asks for it, else a `number`. Only the key's own server
   * counts. With `initial`, a missing counter is created by an `add` with
   * pylibmc's integer flag (so that `get` reads it as a number, which
   * memcached's own auto-create, flagless, would not give); when another
   * caller creates it first, the add fails and the delta goes to theirs.
   */
  async arithmetic(
    verb: "incr" | "decr",
    key: string,
    delta: Counter,
    options?: CounterOptions,
  ): Promise<Counter> {
    checkNames(options, COUNTER, verb);
    const k = this.#keys.key(key, verb);
    const d = checkDelta(delta);
    const initial = options?.initial === undefined
      ? undefined
      : checkDelta(options.initial, "initial");
    if (initial === undefined && (options?.ttl ?? options?.expiresAt) !== undefined) {
      throw new InvalidArguments(`${verb}: ttl and expiresAt are for a counter initial creates`);
    }
    const move = () =>
      this.#router.run(verb, key, options, k, "one", {
        kind: "arithmetic",
        verb,
        key: k,
        delta: d,
      }, counted);
    let value: bigint;
    if (initial === undefined) value = await move();
    else {
      const ttl = storeExpiry(options, this.#ttl);
      const found = await move().catch((err) => {
        if (err instanceof NotFound) return undefined;
        throw err;
      });
      value = found ?? (await this.#router.run(verb, key, options, k, "one", {
          kind: "store",
          verb: "add",
          key: k,
          data: String(initial),
          flags: Flags.INTEGER,
          ttl,
        }, stored)
        ? initial
        : await move());
    }
    if (typeof delta === "bigint" || options?.bigint) return value;
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new UnreadableValue(
        `the counter is now ${value}, past 2^53, where a number loses digits: ` +
          "pass a bigint delta or { bigint: true } to read it",
        { operation: verb, key },
      );
    }
    return Number(value);
  }

  /** Adds `delta` to every counter; their new values. */
  async incrMulti(
    keys: Iterable<string>,
    delta: Counter,
    options?: CallOptions,
  ): Promise<Map<string, Counter>> {
    checkNames(options, CALL, "incrMulti");
    const d = checkDelta(delta);
    const encoded = new Map<string, Uint8Array>();
    for (const key of keys) encoded.set(key, this.#keys.key(key, "incrMulti"));
    return await this.#router.each(
      encoded,
      "incrMulti",
      (key, k) =>
        this.#router.run("incrMulti", key, options, k, "one", {
          kind: "arithmetic",
          verb: "incr",
          key: k,
          delta: d,
        }, counted).then(counter),
    );
  }

  /** Sets a key's ttl (and its replicas'): `false` when it is missing. */
  async touch(key: string, ttl: number, options?: WriteOptions): Promise<boolean> {
    checkNames(options, WRITE, "touch");
    const k = this.#keys.key(key, "touch");
    const request: Touch = { kind: "touch", key: k, ttl: expiry(ttl) };
    return options?.noreply
      ? await this.#quietly("touch", key, options, k, request, touched)
      : await this.#router.run("touch", key, options, k, "write", request, touched);
  }
}
