/**
 * The errors this client throws, named as pylibmc names them, and
 * {@linkcode classify}, the one table that turns a failed {@linkcode Status}
 * into an error class.
 *
 * Every class extends {@linkcode MemcachedError} (which extends the
 * global `Error`; pylibmc's name for it, `Error`, is exported too), so
 * `err instanceof MemcachedError` catches everything the client
 * throws on purpose. Each instance carries the `status` that caused it and,
 * where they apply, the `operation`, `key` and `server` it concerns.
 *
 * @example
 * ```ts
 * import { CacheMiss, classify, MemcachedError, Status } from "./errors.ts";
 * classify(Status.NOTFOUND)?.name; // "NotFound"
 * classify(Status.STORED); // undefined: a success
 * new CacheMiss() instanceof MemcachedError; // true
 * ```
 *
 * @module
 */
import { Status } from "./protocol/status.ts";

export { Status };

/** Where and why an error happened; every field is optional. */
export interface ErrorDetails {
  /** The status that caused the error; each class has a default. */
  status?: Status;
  /** The client operation, such as `"get"` or `"setMulti"`. */
  operation?: string;
  /** The key concerned, as the caller gave it (without the key prefix). */
  key?: string;
  /** The server concerned: `host:port` or a Unix socket path. */
  server?: string;
  /** The underlying error, such as a socket error. */
  cause?: unknown;
}

/**
 * The base of every error this client throws. pylibmc calls it `Error`
 * (exported here under that name too) and `MemcachedError`; its `name` is
 * pylibmc's, `"Error"`.
 * The message says what happened and where, e.g.
 * `get "user:1" on 127.0.0.1:11211: connection refused`.
 */
export class MemcachedError extends globalThis.Error {
  /** The libmemcached status behind this error. */
  readonly status: Status;
  /** The client operation that failed, when known. */
  readonly operation?: string;
  /** The key the operation was about, when there is one. */
  readonly key?: string;
  /** The server the operation was talking to, when known. */
  readonly server?: string;
  /** What happened, without the operation, key and server in front. */
  readonly detail: string;

  /**
   * Makes an error whose message is `detail` prefixed with the operation, key
   * and server from `details`.
   */
  constructor(detail = "", details: ErrorDetails = {}) {
    super(
      where(details) + detail,
      "cause" in details ? { cause: details.cause } : undefined,
    );
    this.status = details.status ?? defaults.get(new.target) ?? Status.FAILURE;
    this.detail = detail;
    if (details.operation !== undefined) this.operation = details.operation;
    if (details.key !== undefined) this.key = details.key;
    if (details.server !== undefined) this.server = details.server;
  }
}

/** Each class's name and the status its instances get when none is given. */
const defaults = new Map<ErrorClass, Status>();

function define(Class: ErrorClass, name: string, status: Status): void {
  Object.defineProperty(Class.prototype, "name", {
    value: name,
    writable: true,
    configurable: true,
  });
  defaults.set(Class, status);
}

function where(details: ErrorDetails): string {
  const parts: string[] = [];
  if (details.operation) parts.push(details.operation);
  if (details.key !== undefined) parts.push(JSON.stringify(shorten(details.key)));
  if (details.server) parts.push(`on ${details.server}`);
  return parts.length ? parts.join(" ") + ": " : "";
}

function shorten(key: string): string {
  return key.length > 64 ? key.slice(0, 61) + "..." : key;
}

/** {@linkcode MemcachedError} under pylibmc's name for it. */
export const Error: typeof MemcachedError = MemcachedError;
/** The type of {@linkcode Error}: the same as {@linkcode MemcachedError}. */
export type Error = MemcachedError;

/**
 * Thrown by a custom `deserialize` to say that a stored value should be read
 * as a miss: `get` then returns `undefined` and `getMulti` leaves the key out.
 */
export class CacheMiss extends MemcachedError {}

/** A generic failure reported by the server or the client (FAILURE). */
export class Failure extends MemcachedError {}

/**
 * A stored value cannot be read as its flags say: bytes flagged as an
 * integer that are not a number (e.g. after `append`), text that is not
 * UTF-8, JSON that does not parse, a zlib stream that does not inflate, or
 * a custom `deserialize` that threw (FAILURE). `getMulti` reports it per key
 * in {@linkcode SomeErrors}, beside the other keys' values.
 */
export class UnreadableValue extends Failure {}

/** The server's host name could not be resolved (HOST_LOOKUP_FAILURE). */
export class HostLookupError extends MemcachedError {}

/**
 * The connection to a server failed, was refused, or was lost, or the client
 * was closed while the request waited (CONNECTION_FAILURE).
 */
export class ConnectionError extends MemcachedError {}

/** A local address could not be bound (CONNECTION_BIND_FAILURE). */
export class ConnectionBindError extends MemcachedError {}

/**
 * A socket could not be created, e.g. Deno was run without `--allow-net`.
 * Unlike pylibmc, this client never uses it for the server's `ERROR` reply
 * (that is {@linkcode NotSupportedError}).
 */
export class SocketCreateError extends MemcachedError {}

/** A Unix socket path is missing or refuses connections (FAIL_UNIX_SOCKET). */
export class UnixSocketError extends MemcachedError {}

/** The server sent bytes that are not a valid reply (PROTOCOL_ERROR). */
export class ProtocolError extends MemcachedError {}

/** Writing a request to the socket failed (WRITE_FAILURE). */
export class WriteError extends MemcachedError {}

/** Reading a reply from the socket failed (READ_FAILURE, PARTIAL_READ). */
export class ReadError extends MemcachedError {}

/** A read failed for a reason the client could not tell (UNKNOWN_READ_FAILURE). */
export class UnknownReadFailure extends MemcachedError {}

/**
 * The server answered `SERVER_ERROR`, e.g. it ran out of memory
 * (SERVER_ERROR, SERVER_MEMORY_ALLOCATION_FAILURE).
 */
export class ServerError extends MemcachedError {}

/**
 * The server answered `CLIENT_ERROR`, e.g. `incr` on a value that is not a
 * number (CLIENT_ERROR).
 */
export class ClientError extends MemcachedError {}

/** The server is marked dead (SERVER_MARKED_DEAD). */
export class ServerDead extends MemcachedError {}

/**
 * The server failed recently and is not tried again until its retry timeout
 * has passed (SERVER_TEMPORARILY_DISABLED).
 */
export class ServerDown extends MemcachedError {}

/** The client has no servers to talk to (NO_SERVERS). */
export class NoServers extends MemcachedError {}

/** The item exists, e.g. a stale cas token (DATA_EXISTS). */
export class DataExists extends MemcachedError {}

/** The item does not exist (DATA_DOES_NOT_EXIST). */
export class DataDoesNotExist extends MemcachedError {}

/**
 * The key is not on the server, e.g. `incr` or `cas` on a missing key
 * (NOTFOUND). From `incrMulti`, `keys` names every missing key and `results`
 * holds the new values of the others.
 */
export class NotFound extends MemcachedError {
  /** The missing keys, when several keys were asked for. */
  keys?: string[];
  /** What succeeded for the other keys, when several keys were asked for. */
  results?: Map<string, unknown>;
}

/**
 * The key is empty, too long (over 250 bytes with its prefix), not a
 * well-formed string, or contains whitespace or control characters
 * (BAD_KEY_PROVIDED, NO_KEY_PROVIDED, KEY_TOO_BIG). Nothing was sent.
 */
export class BadKeyProvided extends MemcachedError {}

/** The value is larger than the item size limit (E2BIG). */
export class TooBig extends MemcachedError {}

/** Memory for a request or reply could not be allocated (MEMORY_ALLOCATION_FAILURE). */
export class AllocationError extends MemcachedError {}

/**
 * A multi-key or multi-server call failed for some keys or servers and not
 * for others (SOME_ERRORS). Nothing that succeeded is lost: `results` holds
 * the outcome for every key or server that succeeded and `errors` the error
 * for every one that failed.
 *
 * @example
 * ```ts ignore
 * try {
 *   await client.getMulti(["a", "b"]);
 * } catch (err) {
 *   if (err instanceof SomeErrors) {
 *     for (const [key, cause] of err.errors) console.log(key, cause.message);
 *     use(err.results);
 *   } else throw err;
 * }
 * ```
 */
export class SomeErrors extends MemcachedError {
  /** The outcome of every key (or server) that succeeded. */
  results: Map<string, unknown> = new Map();
  /** The error of every key (or server) that failed. */
  errors: Map<string, MemcachedError> = new Map();
}

/** A multi-get was interrupted before every reply was read (FETCH_NOTFINISHED). */
export class FetchNotFinished extends MemcachedError {}

/**
 * The server or this client does not support the command, e.g. the server
 * answered a plain `ERROR` (ERROR, NOT_SUPPORTED, DEPRECATED).
 */
export class NotSupportedError extends MemcachedError {}

/** A server address is malformed or of an unknown kind (INVALID_HOST_PROTOCOL). */
export class InvalidHostProtocolError extends MemcachedError {}

/** The server does not know the statistics group asked for (UNKNOWN_STAT_KEY). */
export class UnknownStatKey extends MemcachedError {}

/**
 * A deadline passed: connecting took longer than `connectTimeout`, or a
 * request took longer than its `timeout` (TIMEOUT). pylibmc has no class for
 * this and raises its bare `Error`.
 */
export class Timeout extends MemcachedError {}

/**
 * An argument or option is out of range, such as a negative ttl or delta, or
 * an unknown option name (INVALID_ARGUMENTS, PARSE_ERROR, PARSE_USER_ERROR).
 * Nothing was sent.
 */
export class InvalidArguments extends MemcachedError {}

/** The server did not store the item (NOTSTORED) where a stored item was required. */
export class NotStored extends MemcachedError {}

/**
 * Authentication was refused or could not be completed (AUTH_PROBLEM,
 * AUTH_FAILURE, AUTH_CONTINUE). Credentials never appear in its message.
 */
export class AuthError extends MemcachedError {}

/**
 * `ClientPool.reserve({ block: false })` found no free client. pylibmc raises
 * Python's `queue.Empty` here.
 */
export class PoolExhausted extends MemcachedError {}

/**
 * A TLS connection could not be set up: the server's certificate did not
 * verify against the trusted CAs, did not name the server, or the server
 * wanted a client certificate. Nothing is sent in plain text instead. A
 * {@linkcode ConnectionError} (CONNECTION_FAILURE), so code that handles
 * connection failures handles it too.
 */
export class TlsError extends ConnectionError {}

/** A class of error from this module. */
export type ErrorClass = typeof MemcachedError;

/**
 * Every class, in pylibmc's order (Error, CacheMiss, then the classes
 * mapped from statuses), followed by the ones this client adds: its name,
 * then its statuses, the one its instances get when none is given first.
 */
const CLASSES: readonly [ErrorClass, string, Status, ...Status[]][] = [
  [MemcachedError, "Error", Status.FAILURE],
  [CacheMiss, "CacheMiss", Status.NOTFOUND],
  [Failure, "Failure", Status.FAILURE],
  [HostLookupError, "HostLookupError", Status.HOST_LOOKUP_FAILURE],
  [ConnectionError, "ConnectionError", Status.CONNECTION_FAILURE, Status.IN_PROGRESS],
  [ConnectionBindError, "ConnectionBindError", Status.CONNECTION_BIND_FAILURE],
  [WriteError, "WriteError", Status.WRITE_FAILURE],
  [ReadError, "ReadError", Status.READ_FAILURE, Status.PARTIAL_READ],
  [UnknownReadFailure, "UnknownReadFailure", Status.UNKNOWN_READ_FAILURE],
  [ProtocolError, "ProtocolError", Status.PROTOCOL_ERROR],
  [ClientError, "ClientError", Status.CLIENT_ERROR],
  [ServerError, "ServerError", Status.SERVER_ERROR, Status.SERVER_MEMORY_ALLOCATION_FAILURE],
  [SocketCreateError, "SocketCreateError", Status.ERRNO],
  [DataExists, "DataExists", Status.DATA_EXISTS],
  [DataDoesNotExist, "DataDoesNotExist", Status.DATA_DOES_NOT_EXIST],
  [NotFound, "NotFound", Status.NOTFOUND],
  [AllocationError, "AllocationError", Status.MEMORY_ALLOCATION_FAILURE],
  [SomeErrors, "SomeErrors", Status.SOME_ERRORS],
  [NoServers, "NoServers", Status.NO_SERVERS],
  [UnixSocketError, "UnixSocketError", Status.FAIL_UNIX_SOCKET],
  [NotSupportedError, "NotSupportedError", Status.NOT_SUPPORTED, Status.ERROR, Status.DEPRECATED],
  [FetchNotFinished, "FetchNotFinished", Status.FETCH_NOTFINISHED],
  [
    BadKeyProvided,
    "BadKeyProvided",
    Status.BAD_KEY_PROVIDED,
    Status.NO_KEY_PROVIDED,
    Status.KEY_TOO_BIG,
  ],
  [InvalidHostProtocolError, "InvalidHostProtocolError", Status.INVALID_HOST_PROTOCOL],
  [ServerDead, "ServerDead", Status.SERVER_MARKED_DEAD],
  [ServerDown, "ServerDown", Status.SERVER_TEMPORARILY_DISABLED],
  [TooBig, "TooBig", Status.E2BIG],
  [UnknownStatKey, "UnknownStatKey", Status.UNKNOWN_STAT_KEY],
  [Timeout, "Timeout", Status.TIMEOUT],
  [
    InvalidArguments,
    "InvalidArguments",
    Status.INVALID_ARGUMENTS,
    Status.PARSE_ERROR,
    Status.PARSE_USER_ERROR,
  ],
  [NotStored, "NotStored", Status.NOTSTORED],
  [AuthError, "AuthError", Status.AUTH_FAILURE, Status.AUTH_PROBLEM, Status.AUTH_CONTINUE],
  [TlsError, "TlsError", Status.CONNECTION_FAILURE],
  [PoolExhausted, "PoolExhausted", Status.FAILURE],
  [UnreadableValue, "UnreadableValue", Status.FAILURE],
];

/** Classes whose status is another class's: {@linkcode classify} never gives them. */
const UNCLASSIFIED = new Set<ErrorClass>([
  MemcachedError,
  CacheMiss,
  TlsError,
  PoolExhausted,
  UnreadableValue,
]);

const table = new Map<Status, ErrorClass>();
for (const [Class, name, ...statuses] of CLASSES) {
  define(Class, name, statuses[0]);
  if (!UNCLASSIFIED.has(Class)) { for (const status of statuses) table.set(status, Class); }
}

/**
 * The error class for a status, or `undefined` when the status is a success
 * (SUCCESS, STORED, END, DELETED, VALUE, STAT, ITEM, BUFFERED).
 *
 * It follows pylibmc, except that the server's `ERROR` reply is
 * {@linkcode NotSupportedError} (pylibmc says SocketCreateError), ERRNO is
 * {@linkcode SocketCreateError}, and statuses pylibmc leaves to its bare
 * `Error` get their own class: TIMEOUT is {@linkcode Timeout}, AUTH_* are
 * {@linkcode AuthError}, INVALID_ARGUMENTS is {@linkcode InvalidArguments},
 * NOTSTORED is {@linkcode NotStored}.
 *
 * @example
 * ```ts
 * import { classify, Status, TooBig } from "./errors.ts";
 * classify(Status.E2BIG) === TooBig; // true
 * ```
 */
export function classify(status: Status): ErrorClass | undefined {
  return table.get(status);
}

/**
 * Makes the error for a failed status: the class from
 * {@linkcode classify}, with `detail` and the place it happened.
 *
 * @example
 * ```ts
 * import { errorFor, Status } from "./errors.ts";
 * const err = errorFor(Status.NOTFOUND, "not found", { operation: "incr", key: "hits" });
 * err.message; // 'incr "hits": not found'
 * ```
 */
export function errorFor(
  status: Status,
  detail: string,
  details: Omit<ErrorDetails, "status"> = {},
): MemcachedError {
  const Class = classify(status) ?? Failure;
  return new Class(detail, { ...details, status });
}

/**
 * What a failed status means beyond the one request that met it: whether
 * the connection it came on can carry more requests, whether it counts
 * against the server (towards ServerDown and, with `auto_eject`, ejection),
 * and whether sending the same request again may succeed.
 */
export interface Consequence {
  /** The connection stays open for the requests behind this one. */
  reusable: boolean;
  /** The server is failing: its run of failures grows by one. */
  serverFailure: boolean;
  /** The same request, sent again, may succeed (see {@linkcode isRetriable}). */
  retriable: boolean;
}

/** A failure of the socket or the server behind it: reconnect, count it, try again. */
const LOST: Consequence = Object.freeze({ reusable: false, serverFailure: true, retriable: true });
/** A server that cannot be reached right now: nothing was sent. */
const AWAY: Consequence = Object.freeze({ reusable: true, serverFailure: false, retriable: true });
/** An answer the server gave on purpose: the connection and the server are fine. */
const ANSWER: Consequence = Object.freeze({
  reusable: true,
  serverFailure: false,
  retriable: false,
});

const consequences: ReadonlyMap<Status, Consequence> = new Map<Status, Consequence>([
  [Status.HOST_LOOKUP_FAILURE, LOST],
  [Status.CONNECTION_FAILURE, LOST],
  [Status.CONNECTION_BIND_FAILURE, LOST],
  [Status.WRITE_FAILURE, LOST],
  [Status.READ_FAILURE, LOST],
  [Status.UNKNOWN_READ_FAILURE, LOST],
  [Status.PARTIAL_READ, LOST],
  [Status.FAIL_UNIX_SOCKET, LOST],
  [Status.IN_PROGRESS, LOST],
  // A connect or a connection that timed out: a caller's own deadline is
  // not the connection's failure and never reaches this table (its request
  // is abandoned, its reply read and dropped).
  [Status.TIMEOUT, LOST],
  // The socket could not be made at all (e.g. a permission is missing):
  // counted, but sending again cannot help.
  [Status.ERRNO, { reusable: false, serverFailure: true, retriable: false }],
  // Bytes that are not a reply, or a reply for another request: that
  // connection can no longer be trusted; the server is not at fault unless
  // reconnecting fails.
  [Status.PROTOCOL_ERROR, { reusable: false, serverFailure: false, retriable: true }],
  // memcached serves nothing more on a connection it refused to log in.
  [Status.AUTH_FAILURE, { reusable: false, serverFailure: false, retriable: false }],
  [Status.SERVER_TEMPORARILY_DISABLED, AWAY],
  [Status.SERVER_MARKED_DEAD, AWAY],
  [Status.NO_SERVERS, AWAY],
]);

/**
 * What a failed status means for the connection that met it and for its
 * server: the one place that decides when a connection is reset and when a
 * server is counted as failing. A status the server answers with on
 * purpose (NOTFOUND, DATA_EXISTS, CLIENT_ERROR, E2BIG, …) leaves both alone.
 *
 * @example
 * ```ts
 * import { consequence, Status } from "./errors.ts";
 * consequence(Status.PROTOCOL_ERROR).reusable; // false: the connection is reset
 * consequence(Status.PROTOCOL_ERROR).serverFailure; // false: the server stays in service
 * consequence(Status.CONNECTION_FAILURE).serverFailure; // true
 * ```
 */
export function consequence(status: Status): Consequence {
  return consequences.get(status) ?? ANSWER;
}

/**
 * Whether the operation that threw `err` may succeed if it is tried again:
 * the server could not be reached, failed, timed out or sent a garbled
 * reply. An answer such as NotFound or DataExists, bad input, and an
 * aborted call are not retriable. Only idempotent operations should be
 * retried (the client's `retry` option retries no others).
 *
 * @example
 * ```ts ignore
 * try {
 *   return await client.get(key);
 * } catch (err) {
 *   if (isRetriable(err)) return await client.get(key);
 *   throw err;
 * }
 * ```
 */
export function isRetriable(err: unknown): boolean {
  if (!(err instanceof MemcachedError) || err instanceof SomeErrors) return false;
  return consequence(err.status).retriable;
}

/** Every error class, in pylibmc's order, followed by the ones this client adds. */
export const errors: readonly ErrorClass[] = Object.freeze(CLASSES.map(([Class]) => Class));

/** `[name, class]` for every class in {@linkcode errors}, as pylibmc's `exceptions`. */
export const exceptions: readonly (readonly [string, ErrorClass])[] = Object
  .freeze(
    errors.map((Class) => Object.freeze([Class.name, Class] as const)),
  );
