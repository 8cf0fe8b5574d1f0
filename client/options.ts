/**
 * The client's options and the checks every argument passes before anything
 * is sent: unknown option names, negative or fractional numbers and values of
 * the wrong type are refused at the call.
 *
 * @module
 */
import type { Behaviors } from "../cluster/behaviors.ts";
import type { CompressionOptions, Serializer } from "../codec/mod.ts";
import { InvalidArguments } from "../errors.ts";
import { encodeKey } from "../protocol/keys.ts";
import { type CallOptions, type CommandEvent, millis, type RetryPolicy } from "../cluster/call.ts";
import type { Connector, TlsOptions } from "../transport/mod.ts";

export type { CallOptions, CommandEvent, RetryPolicy };

/** Options of `new Client(servers, options)`. */
export interface ClientOptions {
  /** Milliseconds to wait for a connection to open. Default 4000 (pylibmc's `connect_timeout`). */
  connectTimeout?: number;
  /**
   * Milliseconds a whole request may take, connecting included. Default 5000
   * (pylibmc's `_poll_timeout`). `Infinity` waits for ever.
   */
  timeout?: number;
  /** Prepended to every key; the 250-byte limit applies to prefix + key. */
  keyPrefix?: string;
  /**
   * The largest value, in bytes after serializing and compressing, that is
   * sent or accepted in a reply. Default 1 MiB. A larger value is TooBig and
   * nothing is sent; memcached's own limit is its `-I` setting.
   */
  maxValueSize?: number;
  /** Compress large values with zlib, as pylibmc's `min_compress_len`/`compress_level`. Off by default. */
  compression?: CompressionOptions;
  /** Replaces the value codec (pylibmc's `serialize`/`deserialize` overrides). */
  serializer?: Serializer;
  /**
   * The most connections to open to each server. Default 2. A request goes to
   * the least-loaded connection, and a new one is opened only when all are
   * busy, so a large value does not hold up small requests.
   */
  maxConnections?: number;
  /** Milliseconds a connection may sit unused before it is closed. Default 30000. */
  idleTimeout?: number;
  /**
   * Send the gets made in one tick (without options of their own) to each
   * server as one multi-key `get`. Default `true`; `false` sends one request
   * per call.
   */
  batchGets?: boolean;
  /**
   * Called after every request with its operation, key, server, duration and
   * error: a hook for logs, metrics and tracing. Off (and free) by default.
   *
   * @example
   * ```ts ignore
   * new Client(servers, { onCommand: (e) => e.error && console.warn(e.operation, e.server, e.error) });
   * ```
   */
  onCommand?: (event: CommandEvent) => void;
  /**
   * Which protocol to speak: `"meta"` (memcached 1.6+), `"text"` (older
   * servers and proxies such as twemproxy), `"binary"` (needed for SASL
   * authentication), or `"auto"` (the default): meta where the server
   * answers a meta no-op, text elsewhere. The API is the same whichever is
   * spoken, but for `getWithMeta`, which needs meta, and `binaryKeys`, which
   * needs meta or binary.
   */
  protocol?: "auto" | "meta" | "text" | "binary";
  /**
   * Allow any key of 1 to 250 bytes of UTF-8 (spaces and control characters
   * too): sent base64-encoded with the meta protocol's `b` flag, or as they
   * are with the binary protocol. Default `false`: keys are text-protocol
   * keys.
   */
  binaryKeys?: boolean;
  /**
   * The user name to authenticate every connection with, as pylibmc's
   * `username`: SASL PLAIN with `protocol: "binary"` (memcached `-S`), else
   * memcached's ASCII authentication (`-Y`). Give `password` with it. A
   * refusal is AuthError; credentials never appear in errors.
   */
  username?: string;
  /** The password for `username`. */
  password?: string;
  /**
   * Speak TLS to every TCP server (memcached `-Z`): `true` with the
   * runtime's trusted CAs, or settings such as `{ ca }` for a private CA and
   * `{ cert, key }` for a client certificate. `memcacheds://` server entries
   * use TLS whatever this says. A certificate that does not verify is
   * TlsError; there is no fallback to plain text.
   *
   * @example
   * ```ts ignore
   * new Client("memcacheds://cache.internal:11211", { tls: { ca: await Deno.readTextFile("ca.pem") } });
   * ```
   */
  tls?: boolean | TlsOptions;
  /**
   * pylibmc's behaviors: key distribution, hash, failover, replicas. See
   * {@linkcode Behaviors}.
   */
  behaviors?: Behaviors;
  /**
   * Seconds until items stored without a `ttl` or `expiresAt` of their own
   * expire. Default 0: never.
   */
  ttl?: number;
  /** Opens sockets; the runtime's adapter by default. For tests and unusual runtimes. */
  connector?: Connector;
  /**
   * Try idempotent operations again after a retriable failure (a server
   * down or failing, a timeout, a garbled reply): `true` for the defaults
   * of {@linkcode RetryPolicy}, or a policy. Off by default. incr/decr,
   * append/prepend, add and cas are never retried.
   *
   * @example
   * ```ts ignore
   * new Client(servers, { retry: { attempts: 4, backoff: 100 }, behaviors: { auto_eject: true } });
   * ```
   */
  retry?: boolean | RetryPolicy;
  /**
   * Auto discovery: ask `endpoint` for the cluster's nodes with
   * `config get cluster` (the form AWS ElastiCache and Google Cloud
   * Memorystore document) every `interval` seconds (default 60), and use
   * them as the servers whenever their version changes. The servers given
   * to the constructor serve until the first answer.
   */
  discovery?: { endpoint: string; interval?: number };
}

/** The `retry` option with its defaults, or `undefined` when it is off. */
export function retryPolicy(retry: unknown): Required<RetryPolicy> | undefined {
  if (retry === undefined || retry === false) return undefined;
  const policy = retry === true ? {} : retry;
  checkNames(policy, ["attempts", "backoff", "maxBackoff"], "retry");
  const { attempts, backoff, maxBackoff } = policy as RetryPolicy;
  return {
    attempts: integer(attempts, "retry.attempts", 1, 100, 3),
    backoff: millis(backoff, "retry.backoff", 50),
    maxBackoff: millis(maxBackoff, "retry.maxBackoff", 1000),
  };
}

/** Options of the storage operations. */
export interface StoreOptions extends CallOptions {
  /**
   * Seconds until the item expires; 0 means never. Default: the client's
   * `ttl` option, else 0. Always relative: past 30 days (where memcached
   * reads the number as a Unix time) it is sent as the time it means.
   */
  ttl?: number;
  /** When the item expires, in place of `ttl`. */
  expiresAt?: Date;
}

/** Options of `set`, `add` and `replace`. */
export interface SetOptions extends StoreOptions {
  /**
   * Do not wait for the server's answer: the call resolves `true` once the
   * request is written, whether or not the item gets stored. A failure the
   * server reports later goes to `onCommand` (and counts in `health()` when
   * it is the server's). Quiet meta (`q`) or binary commands; over text the
   * command is sent as usual (memcached's `noreply` would swallow failures
   * too) and only its answer is not waited for.
   */
  noreply?: boolean;
}

/** Options of `delete` and `touch`. */
export interface WriteOptions extends CallOptions {
  /** As {@linkcode SetOptions.noreply}. */
  noreply?: boolean;
}

/** Options of `getOrSet`. */
export interface GetOrSetOptions extends StoreOptions {
  /**
   * Seconds a caller computing a missing value holds the key: if it dies
   * meanwhile, another caller computes the value after that. Default 10.
   */
  lockTtl?: number;
  /**
   * Recompute a value with fewer than this many seconds left before it
   * expires: the first caller to read it then gets it at once and computes
   * the next one behind it, so that no caller waits for an expired value.
   * Needs the meta protocol; off by default.
   */
  recacheBefore?: number;
}

/** Options of `invalidate`. */
export interface InvalidateOptions extends CallOptions {
  /** Seconds the stale value is still served while one caller computes the next. Default 30. */
  staleTtl?: number;
}

/** Options of `incr` and `decr`. */
export interface CounterOptions extends CallOptions {
  /**
   * Creates a missing counter with this value (0 to 2^64-1) and returns it,
   * instead of NotFound; `delta` is not applied to it.
   */
  initial?: number | bigint;
  /**
   * Seconds until a counter `initial` creates expires. Default: the
   * client's `ttl` option, else never. A counter that exists keeps its own.
   */
  ttl?: number;
  /** When a counter `initial` creates expires, in place of `ttl`. */
  expiresAt?: Date;
  /** Return the new value as a `bigint`, whatever the type of `delta`. */
  bigint?: boolean;
}

/** Options of `flushAll`. */
export interface FlushOptions extends CallOptions {
  /** Seconds to wait before the items are invalidated. Default 0. */
  delay?: number;
}

/** The largest ttl memcached accepts: a signed 32-bit Unix time. */
export const MAX_TTL = 2 ** 31 - 1;

/** memcached reads an expiry over 30 days as a Unix time. */
const RELATIVE_LIMIT = 30 * 24 * 3600;

/**
 * The expiry to send for a relative `ttl` in seconds (0: never): the ttl
 * itself up to 30 days, past that the Unix time it means.
 */
export function expiry(ttl: unknown, name = "ttl"): number {
  const seconds = integer(ttl, name, 0, MAX_TTL, 0);
  if (seconds <= RELATIVE_LIMIT) return seconds;
  const at = Math.floor(Date.now() / 1000) + seconds;
  if (at > MAX_TTL) throw new InvalidArguments(`${name} of ${seconds} s reaches past 2038`);
  return at;
}

/** The expiry of a storage call: its `ttl` or `expiresAt`, else the client's default `ttl` (`fallback`, seconds). */
export function storeExpiry(options: StoreOptions | undefined, fallback: number): number {
  const at = options?.expiresAt;
  if (at === undefined) return expiry(options?.ttl ?? fallback);
  if (options?.ttl !== undefined) throw new InvalidArguments("give ttl or expiresAt, not both");
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
    throw new TypeError("expiresAt must be a valid Date");
  }
  const seconds = Math.ceil(at.getTime() / 1000);
  if (seconds > MAX_TTL) throw new InvalidArguments("expiresAt is past 2038");
  // A time in the past expires the item at once, as memcached does with one.
  return Math.max(seconds, RELATIVE_LIMIT + 1);
}

/** The largest value of a memcached counter. */
export const MAX_COUNTER = 2n ** 64n - 1n;

/** Refuses option names that are not in `known`, and options that are not an object. */
export function checkNames(
  options: unknown,
  known: readonly string[],
  where: string,
): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`${where}: options must be an object`);
  }
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw new InvalidArguments(
        `${where}: unknown option ${JSON.stringify(name)} (known: ${known.join(", ")})`,
      );
    }
  }
}

/** A whole number from `min` to `max`, or the default when `value` is undefined. */
export function integer(
  value: unknown,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number, not ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArguments(
      `${name} must be a whole number from ${min} to ${max}, not ${value}`,
    );
  }
  return value;
}

/** An unsigned 64-bit number for incr/decr: their `delta` or `initial`. */
export function delta(value: unknown, name = "delta"): bigint {
  if (typeof value === "bigint") {
    if (value < 0n || value > MAX_COUNTER) {
      throw new InvalidArguments(`${name} must be from 0 to 2^64-1, not ${value}`);
    }
    return value;
  }
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number or bigint, not ${typeof value}`);
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArguments(
      `${name} must be a non-negative whole number (a bigint past 2^53), not ${value}`,
    );
  }
  return BigInt(value);
}

/** A value from `gets`: the value and its cas token for `Client.cas`. */
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

/** The options of calls that take only a signal and a timeout. */
export const CALL = ["signal", "timeout"];
/** The options of storage calls. */
export const STORE = ["signal", "timeout", "ttl", "expiresAt"];
/** The options of set, add and replace. */
export const SET = [...STORE, "noreply"];
/** The options of delete and touch. */
export const WRITE = [...CALL, "noreply"];
/** The options of incr and decr. */
export const COUNTER = ["signal", "timeout", "initial", "ttl", "expiresAt", "bigint"];
/** The options of `flushAll`. */
export const FLUSH = ["signal", "timeout", "delay"];

/** A stats group as sent: a token of the key alphabet; InvalidArguments otherwise. */
export function statsGroup(group: unknown): Uint8Array {
  if (typeof group !== "string") throw new TypeError("stats group must be a string");
  const checked = encodeKey(group, "");
  if (typeof checked === "string") throw new InvalidArguments(`stats group ${checked}`);
  return checked;
}
