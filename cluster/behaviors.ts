/**
 * pylibmc's `behaviors`, by pylibmc's names and with its units, resolved the
 * way libmemcached applies them, so that the same settings place keys on
 * the same servers.
 *
 * @module
 */
import { InvalidArguments, NotSupportedError } from "../errors.ts";
import { hashes, type HashName } from "./hash.ts";
import type { Distribution } from "./ring.ts";

/**
 * The `behaviors` client option. Names, meanings and units are pylibmc's.
 *
 * @example
 * ```ts ignore
 * new Client(["cache-1:11211", "cache-2:11211"], {
 *   behaviors: { ketama: true, auto_eject: true, failure_limit: 2, retry_timeout: 5 },
 * });
 * ```
 */
export interface Behaviors {
  /**
   * How keys are spread: `"modula"` (the default; hash modulo the number of
   * servers), `"consistent"` or `"consistent ketama"` (a continuum of 100
   * points per server; adding or removing a server moves few keys), or
   * `"consistent weighted"` (160 points per server, spread by weight).
   * pylibmc's `"random"`, `"consistent ketama spy"`, `"virtual bucket"` and
   * `"consistent max"` are NotSupportedError.
   */
  distribution?:
    | Distribution
    | "random"
    | "consistent ketama spy"
    | "virtual bucket"
    | "consistent max";
  /**
   * The key hash: `"default"` (one-at-a-time), `"md5"`, `"crc"` (python-memcached's
   * choice), `"fnv1_32"`, `"fnv1a_32"`, `"fnv1_64"`, `"fnv1a_64"`, `"hsieh"`,
   * `"murmur"` or `"jenkins"`. Debian's pylibmc is built without hsieh.
   */
  hash?: HashName;
  /** `true`: distribution `"consistent ketama"`; `false`: `"modula"`. */
  ketama?: boolean | number;
  /**
   * `true`: distribution `"consistent weighted"` with the md5 key hash, which
   * uses the servers' weights. `false` turns `ketama` on, as libmemcached does.
   */
  ketama_weighted?: boolean | number;
  /**
   * The continuum hash. Accepted for compatibility: libmemcached 1.x builds
   * the continuum with the key hash (or md5 when weighted), so it does not
   * change placement here either.
   */
  ketama_hash?: HashName;
  /** Writes also go to this many following servers; a read whose server is down tries them. */
  num_replicas?: number;
  /** Take a server out of the placement after `failure_limit` failures in a row. */
  auto_eject?: boolean | number;
  /** libmemcached 1.x treats this as `auto_eject`; the count is `failure_limit`. */
  remove_failed?: boolean | number;
  /** Failures in a row before a server is ejected (with `auto_eject`). Default 5. */
  failure_limit?: number;
  /** Seconds a failed server is left alone (ServerDown) before it is tried again. Default 2. */
  retry_timeout?: number;
  /** Seconds an ejected server stays out of the placement; 0 (the default) means `retry_timeout`. */
  dead_timeout?: number;
  /** Milliseconds to wait for a connection; the same as the `connectTimeout` option. */
  connect_timeout?: number;
  /** pylibmc's I/O timeout in milliseconds; the same as the `timeout` option. */
  _poll_timeout?: number;
  /**
   * Per-socket-call timeouts in microseconds. Only 0 is accepted: this
   * client bounds whole requests instead (the `timeout` option).
   */
  receive_timeout?: number;
  /** As `receive_timeout`. */
  send_timeout?: number;
  /** Send small requests at once (TCP_NODELAY). On by default here, unlike pylibmc. */
  tcp_nodelay?: boolean | number;
  /** TCP keep-alive probes on idle connections. Off by default. */
  tcp_keepalive?: boolean | number;
  /** Accepted for compatibility: this client never blocks. */
  no_block?: boolean | number;
  /** Accepted for compatibility: `gets` and `cas` always work here. */
  cas?: boolean | number;
  /** Keys are always verified here: `true` is accepted, `false` is NotSupportedError. */
  verify_keys?: boolean | number;
}

/** Behaviors resolved into what the client uses. */
export interface Resolved {
  distribution: Distribution;
  hash: HashName;
  replicas: number;
  autoEject: boolean;
  failureLimit: number;
  retryTimeout: number;
  deadTimeout: number;
  connectTimeout?: number;
  timeout?: number;
  noDelay: boolean;
  keepAlive: boolean;
}

const NAMES = [
  "distribution",
  "hash",
  "ketama",
  "ketama_weighted",
  "ketama_hash",
  "num_replicas",
  "auto_eject",
  "remove_failed",
  "failure_limit",
  "retry_timeout",
  "dead_timeout",
  "connect_timeout",
  "_poll_timeout",
  "receive_timeout",
  "send_timeout",
  "tcp_nodelay",
  "tcp_keepalive",
  "no_block",
  "cas",
  "verify_keys",
];

const DISTRIBUTIONS = ["modula", "consistent", "consistent ketama", "consistent weighted"];

/** Checks `behaviors` and resolves them in pylibmc's order (hash, then ketama, then distribution). */
export function resolveBehaviors(behaviors: Behaviors = {}, servers: number): Resolved {
  if (typeof behaviors !== "object" || behaviors === null) {
    throw new TypeError("behaviors must be an object");
  }
  const unknown = Object.keys(behaviors).filter((name) => !NAMES.includes(name));
  if (unknown.length) {
    throw new InvalidArguments(`unknown behavior names: ${unknown.join(", ")}`);
  }
  const b = behaviors as Record<string, unknown>;
  const resolved: Resolved = {
    distribution: "modula",
    hash: "default",
    replicas: count(b.num_replicas, "num_replicas", 0, Math.max(0, servers - 1), 0),
    autoEject: flag(b.auto_eject, "auto_eject") || flag(b.remove_failed, "remove_failed"),
    failureLimit: count(b.failure_limit, "failure_limit", 1, 2 ** 31, 5),
    retryTimeout: count(b.retry_timeout, "retry_timeout", 0, 2 ** 31, 2),
    deadTimeout: count(b.dead_timeout, "dead_timeout", 0, 2 ** 31, 0),
    noDelay: b.tcp_nodelay === undefined || flag(b.tcp_nodelay, "tcp_nodelay"),
    keepAlive: flag(b.tcp_keepalive, "tcp_keepalive"),
  };
  if (b.connect_timeout !== undefined) {
    resolved.connectTimeout = count(b.connect_timeout, "connect_timeout", 1, 2 ** 31, 0);
  }
  if (b._poll_timeout !== undefined) {
    resolved.timeout = count(b._poll_timeout, "_poll_timeout", 1, 2 ** 31, 0);
  }
  for (const name of ["receive_timeout", "send_timeout"]) {
    if (count(b[name], name, 0, 2 ** 31, 0) !== 0) {
      throw new NotSupportedError(
        `behavior ${name}: per-socket-call timeouts do not exist here; use the timeout option (milliseconds, whole request)`,
      );
    }
  }
  for (const name of ["no_block", "cas"]) flag(b[name], name);
  if (b.verify_keys !== undefined && !flag(b.verify_keys, "verify_keys")) {
    throw new NotSupportedError("behavior verify_keys: keys are always verified here");
  }
  if (b.hash !== undefined) resolved.hash = hashName(b.hash, "hash");
  if (b.ketama_hash !== undefined) hashName(b.ketama_hash, "ketama_hash");
  if (b.ketama !== undefined) {
    resolved.distribution = flag(b.ketama, "ketama") ? "consistent ketama" : "modula";
  }
  if (b.ketama_weighted !== undefined) {
    if (flag(b.ketama_weighted, "ketama_weighted")) {
      resolved.hash = "md5";
      resolved.distribution = "consistent weighted";
    } else {
      resolved.distribution = "consistent ketama";
    }
  }
  if (b.distribution !== undefined) {
    if (typeof b.distribution !== "string") {
      throw new TypeError("behavior distribution must be a string");
    }
    if (!DISTRIBUTIONS.includes(b.distribution)) {
      throw new NotSupportedError(
        `behavior distribution ${JSON.stringify(b.distribution)} is not supported (supported: ${
          DISTRIBUTIONS.join(", ")
        })`,
      );
    }
    resolved.distribution = b.distribution as Distribution;
  }
  return resolved;
}

function flag(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value === "boolean") return value;
  if (value === 0 || value === 1) return value === 1;
  throw new TypeError(`behavior ${name} must be a boolean (or 0/1), not ${JSON.stringify(value)}`);
}

function count(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(`behavior ${name} must be a number, not ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArguments(
      `behavior ${name} must be a whole number from ${min} to ${max}, not ${value}`,
    );
  }
  return value;
}

function hashName(value: unknown, name: string): HashName {
  if (typeof value !== "string" || !(value in hashes)) {
    throw new InvalidArguments(
      `behavior ${name} must be one of ${Object.keys(hashes).join(", ")}, not ${
        JSON.stringify(value)
      }`,
    );
  }
  return value as HashName;
}
