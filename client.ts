/**
 * {@linkcode Client}: every memcached operation, with pylibmc's results and
 * errors, over pipelined connections to one or many servers.
 *
 * @module
 */
import { Codec, type Encoded, pylibmcSerializer } from "./codec/mod.ts";
import { resolveBehaviors } from "./cluster/behaviors.ts";
import { millis } from "./cluster/call.ts";
import { Cluster } from "./cluster/mod.ts";
import type { ServerHealth } from "./cluster/health.ts";
import { parseServer } from "./cluster/servers.ts";
import { errorFor, InvalidArguments, NoServers, NotSupportedError } from "./errors.ts";
import {
  type CallOptions,
  checkNames,
  type ClientOptions,
  type CommandEvent,
  delta as checkDelta,
  type FlushOptions,
  integer,
  MAX_TTL,
  retryPolicy,
  type StoreOptions,
} from "./client/options.ts";
import { encodeBinaryKey, encodeKey, type SentKey, textKey } from "./protocol/keys.ts";
import { shareBuffers } from "./protocol/slab.ts";
import type { DataBlock } from "./protocol/writer.ts";
import { Status } from "./protocol/status.ts";
import type { DumpEntry } from "./protocol/reply.ts";
import type { StoreVerb } from "./protocol/text.ts";
import type { Remove, Store } from "./protocol/wire.ts";
import {
  counted,
  type Counter,
  deleted,
  isIterable,
  onlyItem,
  stored,
  touched,
} from "./client/results.ts";
import { asciiTextFor, defaultConnector, runtime } from "./transport/mod.ts";
import { authentication, checkCredentials, checkTls } from "./client/security.ts";
import { MISS, Reader } from "./client/reads.ts";
import { noServer, Router } from "./cluster/router.ts";

// Small arrays as views of shared buffers pay off on V8 and cost on
// JavaScriptCore (see protocol/slab.ts).
shareBuffers(runtime !== "bun");

/** A value from `gets`: the value and its cas token for {@linkcode Client.cas}. */
export interface CasValue<T = unknown> {
  /** The stored value. */
  value: T;
  /** The item's cas token. */
  cas: bigint;
}

/** A value from `getWithMeta`, with what the server knows of the item. */
export interface ItemMeta<T = unknown> {
  /** The stored value. */
  value: T;
  /** The item's cas token. */
  cas: bigint;
  /** The item's client flags. */
  flags: number;
  /** Seconds until the item expires; `undefined` when it never does. */
  ttl: number | undefined;
  /** Whether the item had been read before this call. */
  hitBefore: boolean;
}

/** Entries for `setMulti`/`addMulti`: a Map, an object, or `[key, value]` pairs. */
export type Entries<T = unknown> =
  | Iterable<readonly [string, T]>
  | Record<string, T>;

export type { CommandEvent, Counter };

const CLIENT_OPTIONS = [
  "connectTimeout",
  "timeout",
  "keyPrefix",
  "maxValueSize",
  "compression",
  "serializer",
  "maxConnections",
  "idleTimeout",
  "behaviors",
  "batchGets",
  "onCommand",
  "protocol",
  "binaryKeys",
  "connector",
  "username",
  "password",
  "tls",
  "retry",
] as const;

/**
 * A value as it is sent: its data block, where text is encoded straight
 * into the request as it is written, and its flags.
 */
interface Payload {
  data: DataBlock;
  flags: number;
}

const CALL = ["signal", "timeout"];
const STORE = ["signal", "timeout", "ttl"];
const FLUSH = ["signal", "timeout", "delay"];
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
  readonly #router: Router;
  readonly #reader: Reader;
  readonly #replicated: boolean;
  readonly #batchGets: boolean;
  readonly #binaryKeys: boolean;
  /**
   * Whether keys of printable ASCII may be sent as strings: everywhere but
   * the binary protocol and base64 keys.
   */
  readonly #textKeys: boolean;
  readonly #codec: Codec;
  readonly #prefix: string;
  readonly #maxValueSize: number;

  /**
   * Makes a client for `servers` (one entry or a list; see `parseServer` for
   * the forms). A malformed entry is InvalidHostProtocolError, an empty list
   * NoServers. Keys are spread over the servers as libmemcached (and so
   * pylibmc) spreads them with the same `behaviors`.
   */
  constructor(servers: string | readonly string[], options: ClientOptions = {}) {
    checkNames(options, CLIENT_OPTIONS, "Client");
    const list = typeof servers === "string" ? [servers] : [...servers];
    if (list.length === 0) throw new NoServers("empty server list");
    const parsed = list.map(parseServer);
    const behaviors = resolveBehaviors(options.behaviors, parsed.length);
    this.servers = Object.freeze(list);
    this.#options = { ...options };
    this.#prefix = options.keyPrefix ?? "";
    if (typeof this.#prefix !== "string") throw new TypeError("keyPrefix must be a string");
    const timeout = millis(either(options.timeout, behaviors.timeout, "timeout"), "timeout", 5000);
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
    const connectTimeout = either(
      options.connectTimeout,
      behaviors.connectTimeout,
      "connectTimeout",
    );
    const protocol = options.protocol ?? "auto";
    if (!["auto", "meta", "text", "binary"].includes(protocol)) {
      throw new InvalidArguments(
        `protocol must be "auto", "meta", "text" or "binary", not ${JSON.stringify(protocol)}`,
      );
    }
    const credentials = checkCredentials(options.username, options.password, protocol);
    const cluster = new Cluster(parsed, behaviors, {
      connectTimeout: millis(connectTimeout, "connectTimeout", 4000),
      maxValueSize: this.#maxValueSize,
      textFlags: this.#codec.textFlags,
      asciiText: asciiTextFor(runtime),
      connector: options.connector ?? defaultConnector,
      socket: { noDelay: behaviors.noDelay, keepAlive: behaviors.keepAlive },
      stallTimeout: timeout,
      maxConnections: integer(options.maxConnections, "maxConnections", 1, 1024, 2),
      idleTimeout: millis(options.idleTimeout, "idleTimeout", 30_000),
      binary: protocol === "binary",
      hello: credentials && authentication(credentials, protocol === "binary"),
      tls: checkTls(options.tls),
      perRequest: runtime === "workers",
    });
    this.#replicated = behaviors.replicas > 0;
    this.#batchGets = options.batchGets ?? true;
    if (options.onCommand !== undefined && typeof options.onCommand !== "function") {
      throw new TypeError("onCommand must be a function");
    }
    this.#binaryKeys = options.binaryKeys ?? false;
    if (typeof this.#binaryKeys !== "boolean") throw new TypeError("binaryKeys must be a boolean");
    if (this.#binaryKeys && protocol === "text") {
      throw new NotSupportedError("binaryKeys needs the meta or binary protocol");
    }
    this.#textKeys = protocol !== "binary" && !this.#binaryKeys;
    this.#router = new Router(cluster, {
      protocol,
      timeout,
      replicated: this.#replicated,
      binaryKeys: this.#binaryKeys,
      onCommand: options.onCommand,
      retry: retryPolicy(options.retry),
    });
    this.#reader = new Reader(this.#router, this.#codec, {
      prefix: this.#prefix,
      key: (key, operation) => this.#key(key, operation),
      sent: (key, operation) => this.#sentKey(key, operation),
    }, this.#textKeys);
    if (typeof this.#batchGets !== "boolean") throw new TypeError("batchGets must be a boolean");
  }

  /**
   * The server that holds `key`, as `host:port` or the socket path: where
   * libmemcached (pylibmc's `hash(key)`) would put it.
   */
  serverFor(key: string): string {
    const index = this.#router.cluster.indexFor(this.#key(key, "serverFor"));
    if (index < 0) throw noServer("serverFor", key);
    return this.#router.cluster.names[index];
  }

  /**
   * Each server's health: its state (`"up"`, `"down"`: failed recently, its
   * keys fail fast with ServerDown; `"ejected"`: out of the placement, its
   * keys served by the others), its failures in a row, until when it is
   * left alone, and its last error.
   *
   * @example
   * ```ts ignore
   * for (const s of client.health()) if (s.state !== "up") console.warn(s.server, s.lastError?.message);
   * ```
   */
  health(): ServerHealth[] {
    return this.#router.cluster.health();
  }

  /** A new client with the same servers and options and connections of its own (pylibmc's `clone`). */
  clone(): Client {
    return new Client(this.servers, this.#options);
  }

  /**
   * The value of `key`, or `undefined` on a miss. Gets for one server made in
   * the same tick without options of their own are sent as one multi-key
   * `get` (a key asked twice is asked once), unless `batchGets` is off.
   */
  get<T = unknown>(key: string, options?: CallOptions): Promise<T | undefined> {
    // Not an async function: a batched get is the hot path, and an async
    // wrapper around its promise would add a promise and a frame per call.
    if (
      this.#batchGets && !this.#replicated &&
      (options === undefined || (options !== null && Object.keys(options).length === 0))
    ) {
      return this.#reader.batched(key) as Promise<T | undefined>;
    }
    return this.#getValue(key, options);
  }

  async #getValue<T>(key: string, options?: CallOptions): Promise<T | undefined> {
    checkNames(options, CALL, "get");
    const hit = await this.#reader.one("get", key, options, "read", {});
    return hit?.value as T | undefined;
  }

  /** The value of `key` with its cas token, or `undefined` on a miss. */
  async gets<T = unknown>(key: string, options?: CallOptions): Promise<CasValue<T> | undefined> {
    checkNames(options, CALL, "gets");
    const hit = await this.#reader.one("gets", key, options, "read", { cas: true });
    return hit && { value: hit.value as T, cas: hit.cas! };
  }

  /**
   * The value of `key`, or `undefined` on a miss, setting the item's ttl
   * (seconds; 0 means never) in the same request: memcached's `gat`, or
   * `mg … T` with the meta protocol.
   *
   * @example
   * ```ts ignore
   * const session = await client.getAndTouch("session:abc", 1800); // read and extend
   * ```
   */
  async getAndTouch<T = unknown>(
    key: string,
    ttl: number,
    options?: CallOptions,
  ): Promise<T | undefined> {
    const t = integer(ttl, "ttl", 0, MAX_TTL, 0);
    checkNames(options, CALL, "getAndTouch");
    const hit = await this.#reader.one("getAndTouch", key, options, "one", { ttl: t });
    return hit?.value as T | undefined;
  }

  /**
   * The value of `key` with its cas token, flags, seconds left to live and
   * whether it had been read before, or `undefined` on a miss. It needs the
   * meta protocol (memcached 1.6+): NotSupportedError elsewhere.
   *
   * @example
   * ```ts ignore
   * const hit = await client.getWithMeta("user:1");
   * if (hit && hit.ttl !== undefined && hit.ttl < 60) refreshSoon("user:1");
   * ```
   */
  async getWithMeta<T = unknown>(
    key: string,
    options?: CallOptions,
  ): Promise<ItemMeta<T> | undefined> {
    checkNames(options, CALL, "getWithMeta");
    const k = this.#key(key, "getWithMeta");
    const hit = await this.#router.run(
      "getWithMeta",
      key,
      options,
      k,
      "read",
      { kind: "retrieve", keys: [k], details: true },
      (answer, fail) => {
        const item = onlyItem(answer, k, fail);
        return item && { item, meta: answer.meta! };
      },
    );
    if (!hit) return undefined;
    const { item, meta } = hit;
    const value = await this.#reader.decode(item, "getWithMeta", key);
    if (value === MISS) return undefined;
    const ttl = Number(meta.flags.t);
    return {
      value: value as T,
      cas: item.cas!,
      flags: item.flags,
      ttl: ttl >= 0 ? ttl : undefined,
      hitBefore: meta.flags.h === "1",
    };
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
   * when the key is gone. Only the key's own server is asked: replicas have
   * tokens of their own.
   */
  async cas(key: string, value: unknown, cas: bigint, options?: StoreOptions): Promise<boolean> {
    if (typeof cas !== "bigint") throw new TypeError("cas must be a bigint from gets()");
    return await this.#store("cas", key, value, options, cas);
  }

  /** Deletes `key`: `false` when it was missing. */
  async delete(key: string, options?: CallOptions): Promise<boolean> {
    checkNames(options, CALL, "delete");
    return await this.#deleteOne("delete", key, this.#key(key, "delete"), options);
  }

  /**
   * Adds `delta` (default 1) to a counter and returns the new value; it wraps
   * at 2^64. NotFound when missing, ClientError when the value is not a
   * number. Only the key's own server counts.
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
    return await this.#router.run(
      "touch",
      key,
      options,
      k,
      "write",
      { kind: "touch", key: k, ttl: t },
      touched,
    );
  }

  /**
   * The hits among `keys`, in the order asked (a key listed twice is in
   * the Map once): one round trip per server, all servers at once. When
   * part of the request fails, SomeErrors carries the hits and an error per
   * key that could not be read.
   */
  async getMulti<T = unknown>(
    keys: Iterable<string>,
    options?: CallOptions,
  ): Promise<Map<string, T>> {
    checkNames(options, CALL, "getMulti");
    return await this.#reader.multi<T>(keys, options);
  }

  /**
   * Stores every entry (one round trip per server, all servers at once) and
   * returns the keys that were not stored. When some fail, SomeErrors
   * carries `true`/`false` per stored key and an error per failed one.
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
    const requests = new Map<string, Remove>();
    for (const key of keys) {
      requests.set(key, { kind: "remove", key: this.#key(key, "deleteMulti") });
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
    return await this.#router.each(
      encoded,
      "incrMulti",
      (key, k) =>
        this.#router.run(
          "incrMulti",
          key,
          options,
          k,
          "one",
          { kind: "arithmetic", verb: "incr", key: k, delta: d },
          counted,
        ),
    );
  }

  /** Invalidates every item, after `delay` seconds if given: `true` per server. */
  async flushAll(options?: FlushOptions): Promise<Map<string, boolean>> {
    checkNames(options, FLUSH, "flushAll");
    const delay = integer(options?.delay, "delay", 0, MAX_TTL, 0);
    return await this.#router.everyServer(
      "flushAll",
      options,
      { kind: "flush", delay },
      (answer, fail) => {
        if (answer.status !== Status.SUCCESS) throw fail();
        return true;
      },
    );
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
    return await this.#router.everyServer(
      "stats",
      options,
      { kind: "stats", group: token },
      (answer, fail) => {
        if (answer.status === Status.ERROR) {
          answer.status = Status.UNKNOWN_STAT_KEY;
          answer.line = `unknown stats group ${JSON.stringify(group)}`;
        }
        if (answer.status !== Status.END) throw fail();
        return Object.fromEntries(answer.stats!);
      },
    );
  }

  /** The version of every server. */
  async version(options?: CallOptions): Promise<Map<string, string>> {
    checkNames(options, CALL, "version");
    return await this.#router.everyServer(
      "version",
      options,
      { kind: "version" },
      (answer, fail) => {
        if (answer.version === undefined) throw fail();
        return answer.version;
      },
    );
  }

  /**
   * The keys each server holds, with their expiry, size and last access,
   * from memcached's `lru_crawler metadump all` (memcached 1.4.31+, text and
   * meta protocols; NotSupportedError with the binary protocol or through a
   * proxy). The whole list is held in memory; with a `keyPrefix`, only keys
   * under it are listed, without it. Each server is asked on a connection of
   * its own, since memcached refuses this command pipelined.
   *
   * @example
   * ```ts ignore
   * for (const [server, entries] of await client.listKeys()) {
   *   console.log(server, entries.map((entry) => entry.key));
   * }
   * ```
   */
  async listKeys(options?: CallOptions): Promise<Map<string, DumpEntry[]>> {
    checkNames(options, CALL, "listKeys");
    const prefix = this.#prefix;
    return await this.#router.everyServer(
      "listKeys",
      options,
      { kind: "dump" },
      (answer, fail) => {
        if (answer.status !== Status.END) throw fail();
        return answer.dump!
          .filter((entry) => entry.key.startsWith(prefix))
          .map((entry) => ({ ...entry, key: entry.key.slice(prefix.length) }));
      },
    );
  }

  /** Closes every connection; waiting calls reject with ConnectionError, later ones too. */
  close(): void {
    this.#router.cluster.close();
  }

  /** Closes the client at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /**
   * The key to send, as {@linkcode #key} makes it, except that a key of
   * printable ASCII stays a string (its own encoding) where the protocol
   * sends keys as they are: the hot multi-key paths take this one.
   */
  #sentKey(key: string, operation: string): SentKey {
    return (this.#textKeys && textKey(key, this.#prefix)) || this.#key(key, operation);
  }

  #key(key: string, operation: string): Uint8Array {
    if (typeof key !== "string") throw new TypeError(`key must be a string, not ${typeof key}`);
    const encoded = this.#binaryKeys
      ? encodeBinaryKey(key, this.#prefix)
      : encodeKey(key, this.#prefix);
    if (typeof encoded === "string") {
      throw errorFor(Status.BAD_KEY_PROVIDED, `key ${encoded}`, { operation, key });
    }
    return encoded;
  }

  /**
   * Serializes (and compresses, where configured) a value to store; a
   * promise only when it must be compressed.
   */
  #encode(verb: StoreVerb, key: string, value: unknown): Payload | Promise<Payload> {
    const prepared = this.#codec.prepare(value);
    if ("data" in prepared) return prepared;
    const compressible = verb !== "cas" && verb !== "append" && verb !== "prepend";
    if (compressible && this.#codec.needsCompression(prepared)) {
      return this.#codec.compress(prepared).then((packed) => this.#fits(packed, verb, key));
    }
    return this.#fits(prepared, verb, key);
  }

  /** The encoded value as sent, if it is not larger than `maxValueSize`. */
  #fits(encoded: Encoded, operation: string, key: string): Payload {
    if (encoded.bytes.length > this.#maxValueSize) {
      throw errorFor(
        Status.E2BIG,
        `value of ${encoded.bytes.length} bytes is larger than maxValueSize ${this.#maxValueSize}`,
        { operation, key },
      );
    }
    return { data: encoded.bytes, flags: encoded.flags };
  }

  /**
   * Not an async function: a store is a hot path, and an async function
   * returning the request's promise would add turns of the event loop
   * between the reply and the caller. Bad arguments still reject.
   */
  #store(
    verb: StoreVerb,
    key: string,
    value: unknown,
    options?: StoreOptions,
    cas?: bigint,
  ): Promise<boolean> {
    try {
      checkNames(options, STORE, verb);
      const k = this.#key(key, verb);
      const ttl = integer(options?.ttl, "ttl", 0, MAX_TTL, 0);
      const send = ({ data, flags }: Payload) =>
        this.#router.run(
          verb,
          key,
          options,
          k,
          verb === "cas" ? "one" : "write",
          { kind: "store", verb, key: k, data, flags, ttl, cas },
          stored,
        );
      const encoded = this.#encode(verb, key, value);
      return encoded instanceof Promise ? encoded.then(send) : send(encoded);
    } catch (err) {
      return Promise.reject(err);
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
    const requests = new Map<string, Store>();
    for (const [key, value] of pairs) {
      const { data, flags } = await this.#encode(verb, key, value);
      requests.set(key, { kind: "store", verb, key: keys.get(key)!, data, flags, ttl });
    }
    const results = await this.#router.writeMany(
      operation,
      requests,
      options,
      (key, request) =>
        this.#router.run(operation, key, options, request.key, "write", request, stored),
      stored,
    );
    return [...results].filter(([, ok]) => !ok).map(([key]) => key);
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
    return await this.#router.run(
      verb,
      key,
      options,
      k,
      "one",
      { kind: "arithmetic", verb, key: k, delta: d },
      counted,
    );
  }

  /** Deletes one key (and its replicas): `false` when it was missing. */
  #deleteOne(
    operation: string,
    key: string,
    k: Uint8Array,
    options: CallOptions | undefined,
  ): Promise<boolean> {
    return this.#router.run(
      operation,
      key,
      options,
      k,
      "write",
      { kind: "remove", key: k },
      deleted,
    );
  }
}

/** An option that may be given directly or as a behavior, but not both. */
function either(direct: number | undefined, behavior: number | undefined, name: string) {
  if (direct !== undefined && behavior !== undefined) {
    throw new InvalidArguments(`${name} is given twice: as an option and as a behavior`);
  }
  return direct ?? behavior;
}
