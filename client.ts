/**
 * {@linkcode Client}: every memcached operation, with pylibmc's results and
 * errors, over pipelined connections to one or many servers.
 *
 * @module
 */
import { ConnectionError } from "./errors.ts";
import type { ServerHealth } from "./cluster/health.ts";
import { type Cluster, noServer } from "./cluster/mod.ts";
import type { Router } from "./cluster/router.ts";
import { measureUtf8With, readLenientFirst } from "./codec/mod.ts";
import { CacheAside } from "./client/cache.ts";
import type { KeyEncoder } from "./client/keys.ts";
import {
  CALL,
  type CallOptions,
  type CasValue,
  checkNames,
  type ClientOptions,
  type CommandEvent,
  type CounterOptions,
  type Entries,
  expiry,
  type FlushOptions,
  type GetOrSetOptions,
  type InvalidateOptions,
  type ItemMeta,
  type SetOptions,
  type StoreOptions,
  type WriteOptions,
} from "./client/options.ts";
import { MISS, type Reader } from "./client/reads.ts";
import { type Counter, onlyItem } from "./client/results.ts";
import { flushAll, listKeys, stats, version } from "./client/servers.ts";
import { assemble, discover } from "./client/setup.ts";
import { Writer } from "./client/writes.ts";
import type { DumpEntry } from "./protocol/reply.ts";
import { shareBuffers } from "./protocol/slab.ts";
import { nativeUtf8Length, runtime, unrefTimer } from "./transport/mod.ts";
import type { Discovery } from "./cluster/discovery.ts";

/** Milliseconds between two looks at whether a replaced cluster still has calls in flight. */
const RETIRE_CHECK = 100;

// Tuned per engine: small arrays as views of shared buffers pay off on V8
// and cost on JavaScriptCore (see protocol/slab.ts); Deno's strict UTF-8
// decoder costs several times its lenient one.
shareBuffers(runtime !== "bun");
readLenientFirst(runtime === "deno");
measureUtf8With(nativeUtf8Length);

export type { CasValue, CommandEvent, Counter, Entries, ItemMeta };

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
  #servers: readonly string[];
  readonly #options: ClientOptions;
  #cluster!: Cluster;
  #router!: Router;
  #reader!: Reader;
  #writer!: Writer;
  #cache!: CacheAside;
  #keys!: KeyEncoder;
  #replicated!: boolean;
  #batchGets!: boolean;
  /** Clusters replaced by setServers, closed once their calls in flight are done. */
  readonly #retiring = new Set<Cluster>();
  readonly #discovery: Discovery | undefined;
  #closed = false;

  /**
   * Makes a client for `servers` (one entry or a list; see `parseServer` for
   * the forms). A malformed entry is InvalidHostProtocolError, an empty list
   * NoServers. Keys are spread over the servers as libmemcached (and so
   * pylibmc) spreads them with the same `behaviors`.
   */
  constructor(servers: string | readonly string[], options: ClientOptions = {}) {
    this.#options = { ...options };
    this.#servers = this.#install(servers);
    this.#discovery = options.discovery === undefined
      ? undefined
      : discover(options, this.#router.timeout, (servers) => {
        if (!this.#closed) this.setServers(servers);
      });
  }

  /** The server entries in use: those given, or the latest from setServers or discovery. */
  get servers(): readonly string[] {
    return this.#servers;
  }

  /**
   * Builds every part for `servers` and puts them in place; the entries, as
   * given. Servers the `previous` cluster has too keep their connections.
   */
  #install(servers: string | readonly string[], previous?: Cluster): readonly string[] {
    const parts = assemble(servers, this.#options, previous);
    this.#cluster = parts.cluster;
    this.#router = parts.router;
    this.#reader = parts.reader;
    this.#writer = new Writer(
      parts.router,
      parts.keys,
      parts.codec,
      parts.maxValueSize,
      parts.ttl,
    );
    this.#cache = new CacheAside(
      parts.router,
      parts.keys,
      parts.reader,
      this.#writer,
      this.#options.onCommand,
    );
    this.#keys = parts.keys;
    this.#replicated = parts.replicated;
    this.#batchGets = parts.batchGets;
    return parts.servers;
  }

  /**
   * Replaces the servers. Keys are placed from then on as libmemcached
   * places them with the new list (a pylibmc client made with it puts
   * every key on the same server). Servers in both lists keep their
   * connections; calls in flight to removed servers finish on theirs, which
   * close once they are done. Bad entries throw, as in the constructor, and
   * change nothing.
   *
   * @example
   * ```ts ignore
   * client.setServers([...client.servers, "cache-4:11211"]);
   * ```
   */
  setServers(servers: string | readonly string[]): void {
    if (this.#closed) {
      throw new ConnectionError("the client is closed", { operation: "setServers" });
    }
    const old = this.#cluster;
    this.#servers = this.#install(servers, old);
    this.#retire(old);
  }

  /**
   * Closes `cluster` once nothing waits on it (every call ends within its
   * timeout). The first look comes after calls made before the change
   * (gets batched for the end of the tick among them) have gone out.
   */
  #retire(cluster: Cluster): void {
    this.#retiring.add(cluster);
    const check = () => {
      if (cluster.busy) return unrefTimer(setTimeout(check, RETIRE_CHECK));
      this.#retiring.delete(cluster);
      cluster.close();
    };
    unrefTimer(setTimeout(check, RETIRE_CHECK));
  }

  /**
   * The server that holds `key`, as `host:port` or the socket path: where
   * libmemcached (pylibmc's `hash(key)`) would put it.
   */
  serverFor(key: string): string {
    const index = this.#cluster.indexFor(this.#keys.key(key, "serverFor"));
    if (index < 0) throw noServer("serverFor", key);
    return this.#cluster.names[index];
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
    return this.#cluster.health();
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
    const t = expiry(ttl);
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
    const k = this.#keys.key(key, "getWithMeta");
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

  /**
   * The value of `key`, or, on a miss, what `loader` gives, stored with
   * `ttl` (cache-aside). One caller computes a missing key, across every
   * process sharing the servers: the others wait for its value (until
   * their `timeout`, then Timeout), or are served the stale value when
   * the key was invalidated. In this process, concurrent callers for a key
   * share one call. A loader that throws lets the next caller compute.
   * Over the meta protocol the server decides who computes; otherwise a
   * lock key (`key` + ":lock") does (see the README's Cache-aside).
   *
   * @example
   * ```ts ignore
   * const user = await client.getOrSet(`user:${id}`, () => db.users.find(id), { ttl: 300 });
   * ```
   */
  getOrSet<T>(
    key: string,
    loader: (key: string) => T | Promise<T>,
    options?: GetOrSetOptions,
  ): Promise<T> {
    return this.#cache.getOrSet(key, loader, options);
  }

  /**
   * Marks the value of `key` stale, for `staleTtl` seconds (default 30):
   * the next `getOrSet` computes it again while the others are served the
   * stale value at once. `false` when the key is missing. Without the meta
   * protocol it is a delete. A plain `get` still reads a stale value.
   */
  invalidate(key: string, options?: InvalidateOptions): Promise<boolean> {
    return this.#cache.invalidate(key, options);
  }

  /** Stores `value`. Resolves `true` once stored. */
  set(key: string, value: unknown, options?: SetOptions): Promise<boolean> {
    return this.#writer.store("set", key, value, options);
  }

  /** Stores `value` only if `key` is missing: `false` when it exists. */
  add(key: string, value: unknown, options?: SetOptions): Promise<boolean> {
    return this.#writer.store("add", key, value, options);
  }

  /** Stores `value` only if `key` exists: `false` when it is missing. */
  replace(key: string, value: unknown, options?: SetOptions): Promise<boolean> {
    return this.#writer.store("replace", key, value, options);
  }

  /**
   * Appends bytes to the stored value: `false` when `key` is missing. The
   * item keeps its flags, so append text to text and bytes to bytes; the
   * value is never compressed, since that would corrupt the item.
   */
  append(key: string, value: unknown, options?: StoreOptions): Promise<boolean> {
    return this.#writer.store("append", key, value, options);
  }

  /** Prepends bytes to the stored value, as {@linkcode Client.append}. */
  prepend(key: string, value: unknown, options?: StoreOptions): Promise<boolean> {
    return this.#writer.store("prepend", key, value, options);
  }

  /**
   * Stores `value` only if the item's cas token is still `cas` (from
   * {@linkcode Client.gets}): `false` when another write came first; NotFound
   * when the key is gone. Only the key's own server is asked: replicas have
   * tokens of their own.
   */
  async cas(key: string, value: unknown, cas: bigint, options?: StoreOptions): Promise<boolean> {
    if (typeof cas !== "bigint") throw new TypeError("cas must be a bigint from gets()");
    return await this.#writer.store("cas", key, value, options, cas);
  }

  /** Deletes `key`: `false` when it was missing. */
  async delete(key: string, options?: WriteOptions): Promise<boolean> {
    return await this.#writer.remove(key, options);
  }

  /**
   * Adds `delta` (default 1) to a counter and returns the new value; it wraps
   * at 2^64. NotFound when missing, unless `initial` is given: then a missing
   * counter is created with `initial`, which is returned. ClientError when
   * the value is not a number. Only the key's own server counts.
   *
   * The new value is a `number`; a `bigint` when `delta` is a bigint or
   * `{ bigint: true }` is given. A counter past 2^53 read as a number is
   * UnreadableValue (its new value is stored; the error carries it).
   *
   * @example
   * ```ts ignore
   * const views: number = await client.incr("views", 1, { initial: 1, ttl: 3600 });
   * const big: bigint = await client.incr("bytes", 4096n);
   * ```
   */
  incr(key: string, delta?: number, options?: CounterOptions & { bigint?: false }): Promise<number>;
  /** As above, with the new value as a `bigint`. */
  incr(key: string, delta: bigint, options?: CounterOptions): Promise<bigint>;
  /** As above, with the new value as a `bigint`. */
  incr(
    key: string,
    delta: number | bigint | undefined,
    options: CounterOptions & { bigint: true },
  ): Promise<bigint>;
  /** As above, for a delta of either type: a `number`, or a `bigint` when it is one. */
  incr(key: string, delta?: Counter, options?: CounterOptions): Promise<Counter>;
  incr(key: string, delta: Counter = 1, options?: CounterOptions): Promise<Counter> {
    return this.#writer.arithmetic("incr", key, delta, options);
  }

  /**
   * Subtracts `delta` (default 1) from a counter, stopping at 0; otherwise
   * as {@linkcode Client.incr}.
   */
  decr(key: string, delta?: number, options?: CounterOptions & { bigint?: false }): Promise<number>;
  /** As above, with the new value as a `bigint`. */
  decr(key: string, delta: bigint, options?: CounterOptions): Promise<bigint>;
  /** As above, with the new value as a `bigint`. */
  decr(
    key: string,
    delta: number | bigint | undefined,
    options: CounterOptions & { bigint: true },
  ): Promise<bigint>;
  /** As above, for a delta of either type: a `number`, or a `bigint` when it is one. */
  decr(key: string, delta?: Counter, options?: CounterOptions): Promise<Counter>;
  decr(key: string, delta: Counter = 1, options?: CounterOptions): Promise<Counter> {
    return this.#writer.arithmetic("decr", key, delta, options);
  }

  /** Sets the ttl of `key` (seconds; 0 means never): `false` when it is missing. */
  async touch(key: string, ttl: number, options?: WriteOptions): Promise<boolean> {
    return await this.#writer.touch(key, ttl, options);
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
    return this.#writer.storeMulti("set", entries, options);
  }

  /** Adds every entry that is missing and returns the keys that already existed. */
  addMulti(entries: Entries, options?: StoreOptions): Promise<string[]> {
    return this.#writer.storeMulti("add", entries, options);
  }

  /** Deletes every key: `true` when every one was deleted, `false` when some were missing. */
  async deleteMulti(keys: Iterable<string>, options?: CallOptions): Promise<boolean> {
    return await this.#writer.removeMulti(keys, options);
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
    return await this.#writer.incrMulti(keys, delta, options);
  }

  /** Invalidates every item, after `delay` seconds if given: `true` per server. */
  async flushAll(options?: FlushOptions): Promise<Map<string, boolean>> {
    return await flushAll(this.#router, options);
  }

  /**
   * Statistics per server, e.g. `stats()` or `stats("items")`. An unknown
   * group is UnknownStatKey.
   */
  async stats(group?: string, options?: CallOptions): Promise<Map<string, Record<string, string>>> {
    return await stats(this.#router, group, options);
  }

  /** The version of every server. */
  async version(options?: CallOptions): Promise<Map<string, string>> {
    return await version(this.#router, options);
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
    return await listKeys(this.#router, this.#keys.prefix, options);
  }

  /** Closes every connection; waiting calls reject with ConnectionError, later ones too. */
  close(): void {
    this.#closed = true;
    this.#discovery?.stop();
    this.#cluster.close();
    for (const cluster of this.#retiring) cluster.close();
    this.#retiring.clear();
  }

  /** Closes the client at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}
