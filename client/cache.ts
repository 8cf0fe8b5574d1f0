/**
 * Cache-aside done once: {@linkcode CacheAside.getOrSet} reads a key and, on
 * a miss, has one caller across every process compute it, and
 * {@linkcode CacheAside.invalidate} marks a value stale so that readers are
 * served it while one caller computes the next.
 *
 * Over the meta protocol the server decides who computes (`mg` with `N`,
 * `R`; `md` with `I`). Without it (text, binary, twemproxy) a lock key
 * added next to the key stands in, with the limits the README lists.
 *
 * @module
 */
import { errorFor } from "../errors.ts";
import { type CallOptions, type CommandEvent, sleep, tell } from "../cluster/call.ts";
import type { Router } from "../cluster/router.ts";
import type { Item } from "../protocol/reply.ts";
import { Status } from "../protocol/status.ts";
import type { KeyEncoder } from "./keys.ts";
import {
  CALL,
  checkNames,
  expiry,
  type GetOrSetOptions,
  integer,
  type InvalidateOptions,
  MAX_TTL,
  STORE,
  type StoreOptions,
} from "./options.ts";
import { MISS, type Reader } from "./reads.ts";
import { deleted, onlyItem } from "./results.ts";
import type { Writer } from "./writes.ts";

/** The options of `getOrSet`. */
export const GET_OR_SET = [...STORE, "lockTtl", "recacheBefore"];
/** The options of `invalidate`. */
export const INVALIDATE = [...CALL, "staleTtl"];

/** The suffix of the lock key the fallback adds next to a key. */
export const LOCK_SUFFIX = ":lock";

/** The first and the longest wait between two looks at a key another caller computes. */
const FIRST_WAIT = 5;
const LONGEST_WAIT = 100;

/** What a claiming read found. */
interface Claimed {
  item: Item;
  /** This caller computes the value. */
  won: boolean;
  /** The value is stale: invalidated, served while one caller computes the next. */
  stale: boolean;
  /** The item is the empty placeholder of a value being computed: there is nothing to serve. */
  placeholder: boolean;
  /** Seconds the item has left. */
  ttl: number;
}

/** getOrSet and invalidate over a client's router, reader and writer. */
export class CacheAside {
  readonly #router: Router;
  readonly #keys: KeyEncoder;
  readonly #reader: Reader;
  readonly #writer: Writer;
  /** This process's getOrSet calls in flight, by key: concurrent callers share one. */
  readonly #inFlight = new Map<string, Promise<unknown>>();

  readonly #observer: ((event: CommandEvent) => void) | undefined;

  /**
   * Makes the helper for one client; `observer` (the `onCommand` option) is
   * told of a recompute behind a served value that failed.
   */
  constructor(
    router: Router,
    keys: KeyEncoder,
    reader: Reader,
    writer: Writer,
    observer?: (event: CommandEvent) => void,
  ) {
    this.#router = router;
    this.#keys = keys;
    this.#reader = reader;
    this.#writer = writer;
    this.#observer = observer;
  }

  /** `Client.getOrSet`. */
  getOrSet<T>(
    key: string,
    loader: (key: string) => T | Promise<T>,
    options?: GetOrSetOptions,
  ): Promise<T> {
    const shared = this.#inFlight.get(key);
    if (shared) return shared as Promise<T>;
    const call = this.#getOrSet(key, loader, options).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, call);
    return call;
  }

  async #getOrSet<T>(
    key: string,
    loader: (key: string) => T | Promise<T>,
    options: GetOrSetOptions | undefined,
  ): Promise<T> {
    checkNames(options, GET_OR_SET, "getOrSet");
    if (typeof loader !== "function") throw new TypeError("loader must be a function");
    const k = this.#keys.key(key, "getOrSet");
    const lockTtl = integer(options?.lockTtl, "lockTtl", 1, MAX_TTL, 10);
    const recache = options?.recacheBefore === undefined
      ? undefined
      : integer(options.recacheBefore, "recacheBefore", 1, MAX_TTL, 0);
    const store: StoreOptions = {
      signal: options?.signal,
      timeout: options?.timeout,
      ttl: options?.ttl,
      expiresAt: options?.expiresAt,
    };
    const deadline = Date.now() + (options?.timeout ?? this.#router.timeout);
    return await this.#speaksMeta(k)
      ? await this.#claiming(key, k, loader, options, store, { ttl: lockTtl, recache }, deadline)
      : await this.#locking(key, loader, options, store, lockTtl, deadline);
  }

  /** getOrSet over meta: the server says who computes. */
  async #claiming<T>(
    key: string,
    k: Uint8Array,
    loader: (key: string) => T | Promise<T>,
    options: CallOptions | undefined,
    store: StoreOptions,
    claim: { ttl: number; recache?: number },
    deadline: number,
  ): Promise<T> {
    for (let wait = FIRST_WAIT;; wait = Math.min(wait * 2, LONGEST_WAIT)) {
      const { item, won, stale, placeholder, ttl } = await this.#claim(key, k, options, claim);
      if (won && (placeholder || stale)) {
        return await this.#compute(
          key,
          loader,
          store,
          () =>
            this.#router.run("getOrSet", key, undefined, k, "write", {
              kind: "remove",
              key: k,
              // A stale value is marked stale again, which lets the next caller win.
              stale: placeholder ? undefined : Math.max(ttl, 1),
            }, deleted),
        );
      }
      if (!placeholder) {
        const value = await this.#reader.decode(item, "getOrSet", key);
        if (value === MISS) return await this.#compute(key, loader, store, async () => {});
        // Won early (recacheBefore): serve this value, compute the next behind it.
        if (won) this.#behind(key, k, loader, store);
        return value as T;
      }
      await this.#pause(wait, deadline, options, key);
    }
  }

  /**
   * Computes the next value of `key` while the current one is served; a
   * failure leaves the current one until it expires, and goes to onCommand.
   */
  #behind<T>(
    key: string,
    k: Uint8Array,
    loader: (key: string) => T | Promise<T>,
    store: StoreOptions,
  ): void {
    const started = performance.now();
    this.#compute(key, loader, store, async () => {}).catch((error) =>
      tell(this.#observer, {
        operation: "getOrSet",
        key,
        server: this.#router.cluster.names[this.#router.cluster.indexFor(k)] ?? "",
        duration: performance.now() - started,
        error,
      })
    );
  }

  /** One claiming read of `key`. */
  async #claim(
    key: string,
    k: Uint8Array,
    options: CallOptions | undefined,
    claim: { ttl: number; recache?: number },
  ): Promise<Claimed> {
    const { item, flags } = await this.#router.run(
      "getOrSet",
      key,
      options,
      k,
      "read",
      { kind: "retrieve", keys: [k], claim },
      (answer, fail) => {
        const item = onlyItem(answer, k, fail);
        // A claim never misses: the server makes a placeholder.
        if (!item || !answer.meta) throw fail();
        return { item, flags: answer.meta.flags };
      },
    );
    const empty = item.flags === 0 && item.value.length === 0 && !item.text;
    const won = "W" in flags;
    return {
      item,
      won,
      stale: "X" in flags,
      placeholder: empty && (won || "Z" in flags),
      ttl: Number(flags.t),
    };
  }

  /**
   * getOrSet without meta: whoever adds the lock key (`key` + ":lock")
   * computes; the others look again until the value is there.
   */
  async #locking<T>(
    key: string,
    loader: (key: string) => T | Promise<T>,
    options: CallOptions | undefined,
    store: StoreOptions,
    lockTtl: number,
    deadline: number,
  ): Promise<T> {
    const lock = key + LOCK_SUFFIX;
    for (let wait = FIRST_WAIT;; wait = Math.min(wait * 2, LONGEST_WAIT)) {
      const hit = await this.#reader.one("getOrSet", key, options, "read", {});
      if (hit) return hit.value as T;
      if (await this.#writer.store("add", lock, 1, { ...options, ttl: lockTtl })) {
        const unlock = async () => {
          await this.#writer.remove(lock);
        };
        // The lock may have come free because its holder has just stored
        // the value, after this caller missed it: look once more.
        const stored = await this.#reader.one("getOrSet", key, options, "read", {});
        if (stored) {
          await unlock().catch(() => {});
          return stored.value as T;
        }
        return await this.#compute(key, loader, store, unlock, unlock);
      }
      await this.#pause(wait, deadline, options, key);
    }
  }

  /**
   * Runs the loader and stores what it gives. When either fails, `release`
   * lets the next caller compute, and the error is thrown; `done` runs once
   * the value is stored.
   */
  async #compute<T>(
    key: string,
    loader: (key: string) => T | Promise<T>,
    store: StoreOptions,
    release: () => Promise<unknown>,
    done: () => Promise<unknown> = async () => {},
  ): Promise<T> {
    let value: T;
    try {
      value = await loader(key);
      await this.#writer.store("set", key, value, store);
    } catch (err) {
      await release().catch(() => {});
      throw err;
    }
    await done().catch(() => {});
    return value;
  }

  /** Waits before looking at `key` again; Timeout when that would pass the deadline. */
  async #pause(
    wait: number,
    deadline: number,
    options: CallOptions | undefined,
    key: string,
  ): Promise<void> {
    const left = deadline - Date.now();
    if (left <= 0) {
      throw errorFor(Status.TIMEOUT, "another caller is still computing the value", {
        operation: "getOrSet",
        key,
      });
    }
    await sleep(Math.min(wait, left), options?.signal);
  }

  /**
   * Whether the server of `k` speaks meta. With no server for it, the meta
   * path is taken and fails as any call does (NoServers).
   */
  async #speaksMeta(k: Uint8Array): Promise<boolean> {
    const index = this.#router.cluster.indexFor(k);
    return index < 0 || await this.#router.dialect(index) === "meta";
  }

  /** `Client.invalidate`. */
  async invalidate(key: string, options?: InvalidateOptions): Promise<boolean> {
    checkNames(options, INVALIDATE, "invalidate");
    const k = this.#keys.key(key, "invalidate");
    const stale = expiry(options?.staleTtl ?? 30, "staleTtl");
    if (!await this.#speaksMeta(k)) return await this.#writer.remove(key, options);
    return await this.#router.run("invalidate", key, options, k, "write", {
      kind: "remove",
      key: k,
      stale,
    }, deleted);
  }
}
