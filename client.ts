/**
 * {@linkcode Client}: every memcached operation, with pylibmc's results and
 * errors, over one pipelined connection.
 *
 * @module
 */
import { Codec, type Encoded, pylibmcSerializer } from "./codec.ts";
import type { RequestSpec } from "./connection.ts";
import { ConnectionPool } from "./pool.ts";
import {
  CacheMiss,
  type Error,
  errorFor,
  InvalidArguments,
  NoServers,
  NotFound,
  NotSupportedError,
  SomeErrors,
} from "./errors.ts";
import { encodeKey } from "./protocol/keys.ts";
import { Status } from "./protocol/status.ts";
import {
  decodeKey,
  encodeArith,
  encodeDelete,
  encodeFlushAll,
  encodeRetrieve,
  encodeStats,
  encodeStore,
  encodeTouch,
  encodeVersion,
  type Item,
  type Reply,
  type StoreVerb,
} from "./protocol/text.ts";
import {
  type CallOptions,
  checkNames,
  type ClientOptions,
  delta as checkDelta,
  type FlushOptions,
  integer,
  MAX_TTL,
  millis,
  signalOf,
  type StoreOptions,
} from "./options.ts";
import { parseServer } from "./servers.ts";
import { defaultConnector } from "./transport/mod.ts";

/** A value from `gets`: the value and its cas token for {@linkcode Client.cas}. */
export interface CasValue<T = unknown> {
  /** The stored value. */
  value: T;
  /** The item's cas token. */
  cas: bigint;
}

/** Entries for `setMulti`/`addMulti`: a Map, an object, or `[key, value]` pairs. */
export type Entries<T = unknown> =
  | Iterable<readonly [string, T]>
  | Record<string, T>;

/** A counter value: a `number`, or a `bigint` past 2^53. */
export type Counter = number | bigint;

const CLIENT_OPTIONS = [
  "connectTimeout",
  "timeout",
  "keyPrefix",
  "maxValueSize",
  "compression",
  "serializer",
  "maxConnections",
  "idleTimeout",
  "connector",
] as const;
const CALL = ["signal", "timeout"];
const STORE = ["signal", "timeout", "ttl"];
const FLUSH = ["signal", "timeout", "delay"];
/** Keys per `get` command in a multi-get, so no command line grows without bound. */
const KEYS_PER_GET = 100;

/**
 * A memcached client.
 *
 * Connections are opened on first use. Requests are pipelined: calls made in
 * the same tick go out in one write, and nothing waits for an earlier reply.
 * Every call takes `{ signal, timeout }`.
 *
 * @example
 * ```ts ignore
 * import { Client } from "jsr:@seed/memcached";
 * await using client = new Client("127.0.0.1:11211");
 * await client.set("greeting", "hello", { ttl: 60 });
 * await client.get("greeting"); // "hello"
 * await client.incr("hits"); // NotFound until "hits" is set
 * ```
 */
export class Client {
  /** The server entries this client was made with. */
  readonly servers: readonly string[];
  readonly #options: ClientOptions;
  readonly #conn: ConnectionPool;
  readonly #codec: Codec;
  readonly #prefix: string;
  readonly #timeout: number;
  readonly #maxValueSize: number;

  /**
   * Makes a client for `servers` (one entry or a list; see `parseServer` for
   * the forms). A malformed entry is InvalidHostProtocolError, an empty list
   * NoServers. This version talks to one server: a list of several is
   * NotSupportedError.
   */
  constructor(servers: string | readonly string[], options: ClientOptions = {}) {
    checkNames(options, CLIENT_OPTIONS, "Client");
    const list = typeof servers === "string" ? [servers] : [...servers];
    if (list.length === 0) throw new NoServers("empty server list");
    const parsed = list.map(parseServer);
    if (parsed.length > 1) {
      throw new NotSupportedError("more than one server is not supported yet");
    }
    this.servers = Object.freeze(list);
    this.#options = { ...options };
    this.#prefix = options.keyPrefix ?? "";
    if (typeof this.#prefix !== "string") throw new TypeError("keyPrefix must be a string");
    this.#timeout = millis(options.timeout, "timeout", 5000);
    this.#maxValueSize = integer(options.maxValueSize, "maxValueSize", 1, 2 ** 31, 1024 * 1024);
    const compression = options.compression;
    if (compression !== undefined) {
      checkNames(compression, ["threshold", "level"], "compression");
      integer(compression.threshold, "compression.threshold", 0, 2 ** 31, 0);
      integer(compression.level, "compression.level", -1, 9, -1);
    }
    const serializer = options.serializer ?? pylibmcSerializer;
    if (
      typeof serializer?.serialize !== "function" || typeof serializer.deserialize !== "function"
    ) {
      throw new TypeError("serializer must have serialize() and deserialize()");
    }
    this.#codec = new Codec(serializer, compression, this.#maxValueSize);
    this.#conn = new ConnectionPool(parsed[0], {
      connectTimeout: millis(options.connectTimeout, "connectTimeout", 4000),
      maxValueSize: this.#maxValueSize,
      connector: options.connector ?? defaultConnector,
      maxConnections: integer(options.maxConnections, "maxConnections", 1, 1024, 2),
      idleTimeout: millis(options.idleTimeout, "idleTimeout", 30_000),
    });
  }

  /** A new client with the same servers and options and connections of its own (pylibmc's `clone`). */
  clone(): Client {
    return new Client(this.servers, this.#options);
  }

  /** The value of `key`, or `undefined` on a miss. */
  async get<T = unknown>(key: string, options?: CallOptions): Promise<T | undefined> {
    const hit = await this.#getOne("get", key, options);
    return hit?.value as T | undefined;
  }

  /** The value of `key` with its cas token, or `undefined` on a miss. */
  async gets<T = unknown>(key: string, options?: CallOptions): Promise<CasValue<T> | undefined> {
    const hit = await this.#getOne("gets", key, options);
    return hit && { value: hit.value as T, cas: hit.cas! };
  }

  /** Stores `value`. Resolves `true` once stored. */
  set(key: string, value: unknown, options?: StoreOptions): Promise<boolean> {
    return this.#store("set", key, value, options);
  }

  /** Stores `value` only if `key` is missing: `false` when it exists. */
  add(key: string, value: unknown, options?: StoreOptions): Promise<boolean> {
    return this.#store("add", key, value, options);
  }

  /** Stores `value` only if `key` exists: `false` when it is missing. */
  replace(key: string, value: unknown, options?: StoreOptions): Promise<boolean> {
    return this.#store("replace", key, value, options);
  }

  /**
   * Appends bytes to the stored value: `false` when `key` is missing. The
   * item keeps its flags, so append text to text and bytes to bytes; the
   * value is never compressed, since that would corrupt the item.
   */
  append(key: string, value: unknown, options?: StoreOptions): Promise<boolean> {
    return this.#store("append", key, value, options);
  }

  /** Prepends bytes to the stored value, as {@linkcode Client.append}. */
  prepend(key: string, value: unknown, options?: StoreOptions): Promise<boolean> {
    return this.#store("prepend", key, value, options);
  }

  /**
   * Stores `value` only if the item's cas token is still `cas` (from
   * {@linkcode Client.gets}): `false` when another write came first; NotFound
   * when the key is gone.
   */
  cas(key: string, value: unknown, cas: bigint, options?: StoreOptions): Promise<boolean> {
    if (typeof cas !== "bigint") throw new TypeError("cas must be a bigint from gets()");
    return this.#store("cas", key, value, options, cas);
  }

  /** Deletes `key`: `false` when it was missing. */
  async delete(key: string, options?: CallOptions): Promise<boolean> {
    checkNames(options, CALL, "delete");
    const k = this.#key(key, "delete");
    const reply = await this.#send("delete", key, options, (w) => encodeDelete(w, k));
    if (reply.status === Status.DELETED) return true;
    if (reply.status === Status.NOTFOUND) return false;
    throw this.#fail(reply, "delete", key);
  }

  /**
   * Adds `delta` (default 1) to a counter and returns the new value; it wraps
   * at 2^64. NotFound when missing, ClientError when the value is not a number.
   */
  incr(key: string, delta: Counter = 1, options?: CallOptions): Promise<Counter> {
    return this.#arith("incr", key, delta, options);
  }

  /** Subtracts `delta` (default 1) from a counter, stopping at 0; as {@linkcode Client.incr}. */
  decr(key: string, delta: Counter = 1, options?: CallOptions): Promise<Counter> {
    return this.#arith("decr", key, delta, options);
  }

  /** Sets the ttl of `key` (seconds; 0 means never): `false` when it is missing. */
  async touch(key: string, ttl: number, options?: CallOptions): Promise<boolean> {
    checkNames(options, CALL, "touch");
    const k = this.#key(key, "touch");
    const t = integer(ttl, "ttl", 0, MAX_TTL, 0);
    const reply = await this.#send("touch", key, options, (w) => encodeTouch(w, k, t));
    if (reply.status === Status.SUCCESS) return true;
    if (reply.status === Status.NOTFOUND) return false;
    throw this.#fail(reply, "touch", key);
  }

  /**
   * The hits among `keys`, in the order asked, in one round trip. When part
   * of the request fails, SomeErrors carries the hits and an error per key.
   */
  async getMulti<T = unknown>(
    keys: Iterable<string>,
    options?: CallOptions,
  ): Promise<Map<string, T>> {
    checkNames(options, CALL, "getMulti");
    const wanted = new Map<string, Uint8Array>();
    for (const key of keys) wanted.set(key, this.#key(key, "getMulti"));
    const all = [...wanted.keys()];
    const batches: string[][] = [];
    for (let i = 0; i < all.length; i += KEYS_PER_GET) batches.push(all.slice(i, i + KEYS_PER_GET));
    const outcomes = await Promise.allSettled(batches.map(async (batch) => {
      const encoded = batch.map((key) => wanted.get(key)!);
      const reply = await this.#send(
        "getMulti",
        undefined,
        options,
        (w) => encodeRetrieve(w, "get", encoded),
        "values",
      );
      if (reply.status !== Status.END) throw this.#fail(reply, "getMulti");
      return reply.items!;
    }));
    const found = new Map<string, Item>();
    const errors = new Map<string, Error>();
    outcomes.forEach((outcome, i) => {
      if (outcome.status === "rejected") {
        for (const key of batches[i]) errors.set(key, outcome.reason);
        return;
      }
      for (const item of outcome.value) {
        found.set(decodeKey(item.key).slice(this.#prefix.length), item);
      }
    });
    const results = new Map<string, T>();
    const inflating: Promise<void>[] = [];
    for (const key of all) {
      const item = found.get(key);
      if (!item) continue;
      const keep = (value: unknown) => {
        if (value !== MISS) results.set(key, value as T);
      };
      const lose = (err: unknown) => void errors.set(key, err as Error);
      try {
        const value = this.#decode(item, "getMulti", key);
        if (value instanceof Promise) inflating.push(value.then(keep, lose));
        else keep(value);
      } catch (err) {
        lose(err);
      }
    }
    if (inflating.length) {
      await Promise.all(inflating);
      // Decompressed values finish out of order: restore the order asked.
      const ordered = new Map<string, T>();
      for (const key of all) if (results.has(key)) ordered.set(key, results.get(key)!);
      return settle(ordered, errors, "getMulti", all.length);
    }
    return settle(results, errors, "getMulti", all.length);
  }

  /**
   * Stores every entry (in one round trip) and returns the keys that were
   * not stored. When some fail, SomeErrors carries `true`/`false` per stored
   * key and an error per failed one.
   */
  setMulti(entries: Entries, options?: StoreOptions): Promise<string[]> {
    return this.#storeMulti("set", entries, options);
  }

  /** Adds every entry that is missing and returns the keys that already existed. */
  addMulti(entries: Entries, options?: StoreOptions): Promise<string[]> {
    return this.#storeMulti("add", entries, options);
  }

  /** Deletes every key: `true` when every one was deleted, `false` when some were missing. */
  async deleteMulti(keys: Iterable<string>, options?: CallOptions): Promise<boolean> {
    checkNames(options, CALL, "deleteMulti");
    const encoded = new Map<string, Uint8Array>();
    for (const key of keys) encoded.set(key, this.#key(key, "deleteMulti"));
    const results = await this.#each(encoded, async (key, k) => {
      const reply = await this.#send("deleteMulti", key, options, (w) => encodeDelete(w, k));
      if (reply.status === Status.DELETED) return true;
      if (reply.status === Status.NOTFOUND) return false;
      throw this.#fail(reply, "deleteMulti", key);
    }, "deleteMulti");
    return [...results.values()].every(Boolean);
  }

  /**
   * Adds `delta` to every counter and returns the new values. NotFound names
   * the missing keys (its `results` holds the other keys' new values, which
   * stay applied).
   */
  async incrMulti(
    keys: Iterable<string>,
    delta: Counter = 1,
    options?: CallOptions,
  ): Promise<Map<string, Counter>> {
    checkNames(options, CALL, "incrMulti");
    const d = checkDelta(delta);
    const encoded = new Map<string, Uint8Array>();
    for (const key of keys) encoded.set(key, this.#key(key, "incrMulti"));
    const results = await this.#each(encoded, async (key, k) => {
      const reply = await this.#send(
        "incrMulti",
        key,
        options,
        (w) => encodeArith(w, "incr", k, d),
      );
      if (reply.number === undefined) throw this.#fail(reply, "incrMulti", key);
      return counter(reply.number);
    }, "incrMulti");
    return results;
  }

  /** Invalidates every item, after `delay` seconds if given. Resolves `true` per server. */
  async flushAll(options?: FlushOptions): Promise<Map<string, boolean>> {
    checkNames(options, FLUSH, "flushAll");
    const delay = integer(options?.delay, "delay", 0, MAX_TTL, 0);
    const reply = await this.#send("flushAll", undefined, options, (w) => encodeFlushAll(w, delay));
    if (reply.status !== Status.SUCCESS) throw this.#fail(reply, "flushAll");
    return new Map([[this.#conn.server, true]]);
  }

  /**
   * Statistics per server, e.g. `stats()` or `stats("items")`. An unknown
   * group is UnknownStatKey.
   */
  async stats(group?: string, options?: CallOptions): Promise<Map<string, Record<string, string>>> {
    checkNames(options, CALL, "stats");
    let token: Uint8Array | undefined;
    if (group !== undefined) {
      if (typeof group !== "string") throw new TypeError("stats group must be a string");
      const checked = encodeKey(group, "");
      if (typeof checked === "string") throw new InvalidArguments(`stats group ${checked}`);
      token = checked;
    }
    const reply = await this.#send(
      "stats",
      undefined,
      options,
      (w) => encodeStats(w, token),
      "stats",
    );
    if (reply.status === Status.ERROR) {
      throw errorFor(Status.UNKNOWN_STAT_KEY, `unknown stats group ${JSON.stringify(group)}`, {
        operation: "stats",
        server: this.#conn.server,
      });
    }
    if (reply.status !== Status.END) throw this.#fail(reply, "stats");
    return new Map([[this.#conn.server, Object.fromEntries(reply.stats!)]]);
  }

  /** The version of every server. */
  async version(options?: CallOptions): Promise<Map<string, string>> {
    checkNames(options, CALL, "version");
    const reply = await this.#send("version", undefined, options, encodeVersion);
    if (reply.version === undefined) throw this.#fail(reply, "version");
    return new Map([[this.#conn.server, reply.version]]);
  }

  /** Closes every connection; waiting calls reject with ConnectionError, later ones too. */
  close(): void {
    this.#conn.close();
  }

  /** Closes the client at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #key(key: string, operation: string): Uint8Array {
    if (typeof key !== "string") throw new TypeError(`key must be a string, not ${typeof key}`);
    const encoded = encodeKey(key, this.#prefix);
    if (typeof encoded === "string") {
      throw errorFor(Status.BAD_KEY_PROVIDED, `key ${encoded}`, { operation, key });
    }
    return encoded;
  }

  #send(
    operation: string,
    key: string | undefined,
    options: CallOptions | undefined,
    encode: RequestSpec["encode"],
    expect: RequestSpec["expect"] = "line",
  ): Promise<Reply> {
    return this.#conn.request({
      encode,
      expect,
      operation,
      key,
      timeout: millis(options?.timeout, "timeout", this.#timeout),
      signal: signalOf(options),
    });
  }

  #fail(reply: Reply, operation: string, key?: string): Error {
    return errorFor(reply.status, reply.line, { operation, key, server: this.#conn.server });
  }

  async #getOne(verb: "get" | "gets", key: string, options?: CallOptions) {
    checkNames(options, CALL, verb);
    const k = this.#key(key, verb);
    const reply = await this.#send(
      verb,
      key,
      options,
      (w) => encodeRetrieve(w, verb, [k]),
      "values",
    );
    if (reply.status !== Status.END) throw this.#fail(reply, verb, key);
    const item = reply.items![0];
    if (!item) return undefined;
    const value = await this.#decode(item, verb, key);
    return value === MISS ? undefined : { value, cas: item.cas };
  }

  /**
   * The value of an item, or MISS when a custom deserializer says so. It is a
   * promise only when the value must be decompressed, so that reads of plain
   * values settle without extra turns of the event loop.
   */
  #decode(item: Item, operation: string, key: string): unknown {
    const fail = (err: unknown) => {
      if (err instanceof CacheMiss) return MISS;
      if (err instanceof globalThis.Error && "status" in err) throw err;
      throw errorFor(Status.FAILURE, `cannot decode the value: ${String(err)}`, {
        operation,
        key,
        server: this.#conn.server,
        cause: err,
      });
    };
    try {
      const value = this.#codec.decode(item.value, item.flags);
      return value instanceof Promise ? value.catch(fail) : value;
    } catch (err) {
      return fail(err);
    }
  }

  async #encode(verb: StoreVerb, key: string, value: unknown): Promise<Encoded> {
    let encoded = this.#codec.serialize(value);
    const compressible = verb !== "cas" && verb !== "append" && verb !== "prepend";
    if (compressible && this.#codec.needsCompression(encoded)) {
      encoded = await this.#codec.compress(encoded);
    }
    if (encoded.bytes.length > this.#maxValueSize) {
      throw errorFor(
        Status.E2BIG,
        `value of ${encoded.bytes.length} bytes is larger than maxValueSize ${this.#maxValueSize}`,
        { operation: verb, key },
      );
    }
    return encoded;
  }

  async #store(
    verb: StoreVerb,
    key: string,
    value: unknown,
    options?: StoreOptions,
    cas?: bigint,
  ): Promise<boolean> {
    checkNames(options, STORE, verb);
    const k = this.#key(key, verb);
    const ttl = integer(options?.ttl, "ttl", 0, MAX_TTL, 0);
    const { bytes, flags } = await this.#encode(verb, key, value);
    const reply = await this.#send(
      verb,
      key,
      options,
      (w) => encodeStore(w, verb, k, flags, ttl, bytes, cas),
    );
    return this.#stored(reply, verb, key);
  }

  #stored(reply: Reply, operation: string, key: string): boolean {
    switch (reply.status) {
      case Status.STORED:
        return true;
      case Status.NOTSTORED:
      case Status.DATA_EXISTS:
        return false;
      default:
        throw this.#fail(reply, operation, key);
    }
  }

  async #storeMulti(
    verb: "set" | "add",
    entries: Entries,
    options?: StoreOptions,
  ): Promise<string[]> {
    const operation = `${verb}Multi`;
    checkNames(options, STORE, operation);
    const ttl = integer(options?.ttl, "ttl", 0, MAX_TTL, 0);
    const pairs = isIterable(entries) ? [...entries] : Object.entries(entries);
    const keys = new Map<string, Uint8Array>();
    for (const [key] of pairs) keys.set(key, this.#key(key, operation));
    const values = new Map<string, Encoded>();
    for (const [key, value] of pairs) values.set(key, await this.#encode(verb, key, value));
    const results = await this.#each(keys, async (key, k) => {
      const { bytes, flags } = values.get(key)!;
      const reply = await this.#send(
        operation,
        key,
        options,
        (w) => encodeStore(w, verb, k, flags, ttl, bytes),
      );
      return this.#stored(reply, operation, key);
    }, operation);
    return [...results].filter(([, stored]) => !stored).map(([key]) => key);
  }

  async #arith(
    verb: "incr" | "decr",
    key: string,
    delta: Counter,
    options?: CallOptions,
  ): Promise<Counter> {
    checkNames(options, CALL, verb);
    const k = this.#key(key, verb);
    const d = checkDelta(delta);
    const reply = await this.#send(verb, key, options, (w) => encodeArith(w, verb, k, d));
    if (reply.number === undefined) throw this.#fail(reply, verb, key);
    return counter(reply.number);
  }

  /**
   * Runs `one` for every key at once (so the requests share one write) and
   * gathers the outcomes, throwing NotFound or SomeErrors for failures.
   */
  async #each<R>(
    keys: Map<string, Uint8Array>,
    one: (key: string, encoded: Uint8Array) => Promise<R>,
    operation: string,
  ): Promise<Map<string, R>> {
    const list = [...keys];
    const outcomes = await Promise.allSettled(list.map(([key, k]) => one(key, k)));
    const results = new Map<string, R>();
    const errors = new Map<string, Error>();
    outcomes.forEach((outcome, i) => {
      const key = list[i][0];
      if (outcome.status === "fulfilled") results.set(key, outcome.value);
      else errors.set(key, outcome.reason);
    });
    return settle(results, errors, operation, list.length);
  }
}

const MISS = Symbol("miss");

function counter(n: bigint): Counter {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

function isIterable(value: unknown): value is Iterable<readonly [string, unknown]> {
  return typeof (value as Iterable<unknown>)?.[Symbol.iterator] === "function";
}

/**
 * The results of a multi-key call, or the error that reports its failures:
 * NotFound when every failure is a miss, the error itself when every key
 * failed the same way, SomeErrors otherwise.
 */
function settle<R>(
  results: Map<string, R>,
  errors: Map<string, Error>,
  operation: string,
  total: number,
): Map<string, R> {
  if (errors.size === 0) return results;
  const failures = [...errors.values()];
  if (failures.every((err) => err instanceof NotFound)) {
    const missing = [...errors.keys()];
    const err = new NotFound(`${missing.length} keys not found: ${missing.join(", ")}`, {
      operation,
    });
    err.keys = missing;
    err.results = results;
    throw err;
  }
  const first = failures[0];
  if (errors.size === total && failures.every((err) => err.constructor === first.constructor)) {
    throw first;
  }
  const err = new SomeErrors(`${errors.size} of ${total} keys failed: ${summary(errors)}`, {
    operation,
  });
  err.results = results;
  err.errors = errors;
  throw err;
}

function summary(errors: Map<string, Error>): string {
  const names = new Map<string, number>();
  for (const err of errors.values()) names.set(err.name, (names.get(err.name) ?? 0) + 1);
  return [...names].map(([name, n]) => `${n} ${name}`).join(", ");
}
