/**
 * The errors this client throws, named as pylibmc names them, and
 * {@linkcode classify}, the one table that turns a failed {@linkcode Status}
 * into an error class.
 *
 * Every class extends this module's {@linkcode Error} (which extends the
 * global `Error`), so `err instanceof Error` catches everything the client
 * throws on purpose. Each instance carries the `status` that caused it and,
 * where they apply, the `operation`, `key` and `server` it concerns.
 *
 * @example
 * ```ts
 * import { CacheMiss, classify, Status } from "./errors.ts";
 * classify(Status.NOTFOUND)?.name; // "NotFound"
 * classify(Status.STORED); // undefined: a success
 * new CacheMiss() instanceof Error; // true
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

const GlobalError = globalThis.Error;

/**
 * The base of every error this client throws. pylibmc calls it `Error` too
 * (with `MemcachedError` as an alias).
 *
 * The message says what happened and where, e.g.
 * `get "user:1" on 127.0.0.1:11211: connection refused`.
 */
export class Error extends GlobalError {
  /** The status a new instance of this class gets when none is given. */
  static readonly status: Status = Status.FAILURE;
  override name = "Error";
  /** The libmemcached status behind this error. */
  readonly status: Status;
  /** The client operation that failed, when known. */
  readonly operation?: string;
  /** The key the operation was about, when there is one. */
  readonly key?: string;
  /** The server the operation was talking to, when known. */
  readonly server?: string;

  /**
   * Makes an error whose message is `detail` prefixed with the operation, key
   * and server from `details`.
   */
  constructor(detail = "", details: ErrorDetails = {}) {
    super(
      where(details) + detail,
      "cause" in details ? { cause: details.cause } : undefined,
    );
    this.status = details.status ??
      (this.constructor as typeof Error).status;
    if (details.operation !== undefined) this.operation = details.operation;
    if (details.key !== undefined) this.key = details.key;
    if (details.server !== undefined) this.server = details.server;
  }
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

/** The same class as {@linkcode Error}, under pylibmc's older name. */
export const MemcachedError: typeof Error = Error;
/** The type of {@linkcode MemcachedError}: the same as {@linkcode Error}. */
export type MemcachedError = Error;

/**
 * Thrown by a custom `deserialize` to say that a stored value should be read
 * as a miss: `get` then returns `undefined` and `getMulti` leaves the key out.
 */
export class CacheMiss extends Error {
  static override readonly status: Status = Status.NOTFOUND;
  override name = "CacheMiss";
}

/** A generic failure reported by the server or the client (FAILURE). */
export class Failure extends Error {
  static override readonly status: Status = Status.FAILURE;
  override name = "Failure";
}

/** The server's host name could not be resolved (HOST_LOOKUP_FAILURE). */
export class HostLookupError extends Error {
  static override readonly status: Status = Status.HOST_LOOKUP_FAILURE;
  override name = "HostLookupError";
}

/**
 * The connection to a server failed, was refused, or was lost, or the client
 * was closed while the request waited (CONNECTION_FAILURE).
 */
export class ConnectionError extends Error {
  static override readonly status: Status = Status.CONNECTION_FAILURE;
  override name = "ConnectionError";
}

/** A local address could not be bound (CONNECTION_BIND_FAILURE). */
export class ConnectionBindError extends Error {
  static override readonly status: Status = Status.CONNECTION_BIND_FAILURE;
  override name = "ConnectionBindError";
}

/**
 * A socket could not be created, e.g. Deno was run without `--allow-net`.
 * Unlike pylibmc, this client never uses it for the server's `ERROR` reply
 * (that is {@linkcode NotSupportedError}).
 */
export class SocketCreateError extends Error {
  static override readonly status: Status = Status.ERRNO;
  override name = "SocketCreateError";
}

/** A Unix socket path is missing or refuses connections (FAIL_UNIX_SOCKET). */
export class UnixSocketError extends Error {
  static override readonly status: Status = Status.FAIL_UNIX_SOCKET;
  override name = "UnixSocketError";
}

/** The server sent bytes that are not a valid reply (PROTOCOL_ERROR). */
export class ProtocolError extends Error {
  static override readonly status: Status = Status.PROTOCOL_ERROR;
  override name = "ProtocolError";
}

/** Writing a request to the socket failed (WRITE_FAILURE). */
export class WriteError extends Error {
  static override readonly status: Status = Status.WRITE_FAILURE;
  override name = "WriteError";
}

/** Reading a reply from the socket failed (READ_FAILURE, PARTIAL_READ). */
export class ReadError extends Error {
  static override readonly status: Status = Status.READ_FAILURE;
  override name = "ReadError";
}

/** A read failed for a reason the client could not tell (UNKNOWN_READ_FAILURE). */
export class UnknownReadFailure extends Error {
  static override readonly status: Status = Status.UNKNOWN_READ_FAILURE;
  override name = "UnknownReadFailure";
}

/**
 * The server answered `SERVER_ERROR`, e.g. it ran out of memory
 * (SERVER_ERROR, SERVER_MEMORY_ALLOCATION_FAILURE).
 */
export class ServerError extends Error {
  static override readonly status: Status = Status.SERVER_ERROR;
  override name = "ServerError";
}

/**
 * The server answered `CLIENT_ERROR`, e.g. `incr` on a value that is not a
 * number (CLIENT_ERROR).
 */
export class ClientError extends Error {
  static override readonly status: Status = Status.CLIENT_ERROR;
  override name = "ClientError";
}

/** The server is marked dead (SERVER_MARKED_DEAD). */
export class ServerDead extends Error {
  static override readonly status: Status = Status.SERVER_MARKED_DEAD;
  override name = "ServerDead";
}

/**
 * The server failed recently and is not tried again until its retry timeout
 * has passed (SERVER_TEMPORARILY_DISABLED).
 */
export class ServerDown extends Error {
  static override readonly status: Status = Status.SERVER_TEMPORARILY_DISABLED;
  override name = "ServerDown";
}

/** The client has no servers to talk to (NO_SERVERS). */
export class NoServers extends Error {
  static override readonly status: Status = Status.NO_SERVERS;
  override name = "NoServers";
}

/** The item exists, e.g. a stale cas token (DATA_EXISTS). */
export class DataExists extends Error {
  static override readonly status: Status = Status.DATA_EXISTS;
  override name = "DataExists";
}

/** The item does not exist (DATA_DOES_NOT_EXIST). */
export class DataDoesNotExist extends Error {
  static override readonly status: Status = Status.DATA_DOES_NOT_EXIST;
  override name = "DataDoesNotExist";
}

/**
 * The key is not on the server, e.g. `incr` or `cas` on a missing key
 * (NOTFOUND). From `incrMulti`, `keys` names every missing key and `results`
 * holds the new values of the others.
 */
export class NotFound extends Error {
  static override readonly status: Status = Status.NOTFOUND;
  override name = "NotFound";
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
export class BadKeyProvided extends Error {
  static override readonly status: Status = Status.BAD_KEY_PROVIDED;
  override name = "BadKeyProvided";
}

/** The value is larger than the item size limit (E2BIG). */
export class TooBig extends Error {
  static override readonly status: Status = Status.E2BIG;
  override name = "TooBig";
}

/** Memory for a request or reply could not be allocated (MEMORY_ALLOCATION_FAILURE). */
export class AllocationError extends Error {
  static override readonly status: Status = Status.MEMORY_ALLOCATION_FAILURE;
  override name = "AllocationError";
}

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
export class SomeErrors extends Error {
  static override readonly status: Status = Status.SOME_ERRORS;
  override name = "SomeErrors";
  /** The outcome of every key (or server) that succeeded. */
  results: Map<string, unknown> = new Map();
  /** The error of every key (or server) that failed. */
  errors: Map<string, Error> = new Map();
}

/** A multi-get was interrupted before every reply was read (FETCH_NOTFINISHED). */
export class FetchNotFinished extends Error {
  static override readonly status: Status = Status.FETCH_NOTFINISHED;
  override name = "FetchNotFinished";
}

/**
 * The server or this client does not support the command, e.g. the server
 * answered a plain `ERROR` (ERROR, NOT_SUPPORTED, DEPRECATED).
 */
export class NotSupportedError extends Error {
  static override readonly status: Status = Status.NOT_SUPPORTED;
  override name = "NotSupportedError";
}

/** A server address is malformed or of an unknown kind (INVALID_HOST_PROTOCOL). */
export class InvalidHostProtocolError extends Error {
  static override readonly status: Status = Status.INVALID_HOST_PROTOCOL;
  override name = "InvalidHostProtocolError";
}

/** The server does not know the statistics group asked for (UNKNOWN_STAT_KEY). */
export class UnknownStatKey extends Error {
  static override readonly status: Status = Status.UNKNOWN_STAT_KEY;
  override name = "UnknownStatKey";
}

/**
 * A deadline passed: connecting took longer than `connectTimeout`, or a
 * request took longer than its `timeout` (TIMEOUT). pylibmc has no class for
 * this and raises its bare `Error`.
 */
export class Timeout extends Error {
  static override readonly status: Status = Status.TIMEOUT;
  override name = "Timeout";
}

/**
 * An argument or option is out of range, such as a negative ttl or delta, or
 * an unknown option name (INVALID_ARGUMENTS, PARSE_ERROR, PARSE_USER_ERROR).
 * Nothing was sent.
 */
export class InvalidArguments extends Error {
  static override readonly status: Status = Status.INVALID_ARGUMENTS;
  override name = "InvalidArguments";
}

/** The server did not store the item (NOTSTORED) where a stored item was required. */
export class NotStored extends Error {
  static override readonly status: Status = Status.NOTSTORED;
  override name = "NotStored";
}

/**
 * Authentication was refused or could not be completed (AUTH_PROBLEM,
 * AUTH_FAILURE, AUTH_CONTINUE). Credentials never appear in its message.
 */
export class AuthError extends Error {
  static override readonly status: Status = Status.AUTH_FAILURE;
  override name = "AuthError";
}

/** A class of error from this module. */
export type ErrorClass = typeof Error;

const table: ReadonlyMap<Status, ErrorClass> = new Map<Status, ErrorClass>([
  [Status.FAILURE, Failure],
  [Status.HOST_LOOKUP_FAILURE, HostLookupError],
  [Status.CONNECTION_FAILURE, ConnectionError],
  [Status.CONNECTION_BIND_FAILURE, ConnectionBindError],
  [Status.WRITE_FAILURE, WriteError],
  [Status.READ_FAILURE, ReadError],
  [Status.UNKNOWN_READ_FAILURE, UnknownReadFailure],
  [Status.PROTOCOL_ERROR, ProtocolError],
  [Status.CLIENT_ERROR, ClientError],
  [Status.SERVER_ERROR, ServerError],
  [Status.ERROR, NotSupportedError],
  [Status.DATA_EXISTS, DataExists],
  [Status.DATA_DOES_NOT_EXIST, DataDoesNotExist],
  [Status.NOTSTORED, NotStored],
  [Status.NOTFOUND, NotFound],
  [Status.MEMORY_ALLOCATION_FAILURE, AllocationError],
  [Status.PARTIAL_READ, ReadError],
  [Status.SOME_ERRORS, SomeErrors],
  [Status.NO_SERVERS, NoServers],
  [Status.ERRNO, SocketCreateError],
  [Status.FAIL_UNIX_SOCKET, UnixSocketError],
  [Status.NOT_SUPPORTED, NotSupportedError],
  [Status.NO_KEY_PROVIDED, BadKeyProvided],
  [Status.FETCH_NOTFINISHED, FetchNotFinished],
  [Status.TIMEOUT, Timeout],
  [Status.BAD_KEY_PROVIDED, BadKeyProvided],
  [Status.INVALID_HOST_PROTOCOL, InvalidHostProtocolError],
  [Status.SERVER_MARKED_DEAD, ServerDead],
  [Status.UNKNOWN_STAT_KEY, UnknownStatKey],
  [Status.E2BIG, TooBig],
  [Status.INVALID_ARGUMENTS, InvalidArguments],
  [Status.KEY_TOO_BIG, BadKeyProvided],
  [Status.AUTH_PROBLEM, AuthError],
  [Status.AUTH_FAILURE, AuthError],
  [Status.AUTH_CONTINUE, AuthError],
  [Status.PARSE_ERROR, InvalidArguments],
  [Status.PARSE_USER_ERROR, InvalidArguments],
  [Status.DEPRECATED, NotSupportedError],
  [Status.IN_PROGRESS, ConnectionError],
  [Status.SERVER_TEMPORARILY_DISABLED, ServerDown],
  [Status.SERVER_MEMORY_ALLOCATION_FAILURE, ServerError],
]);

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
): Error {
  const Class = classify(status) ?? Failure;
  return new Class(detail, { ...details, status });
}

/**
 * Every error class, in pylibmc's order (Error, CacheMiss, then the classes
 * mapped from statuses), followed by the ones this client adds.
 */
export const errors: readonly ErrorClass[] = Object.freeze([
  Error,
  CacheMiss,
  Failure,
  HostLookupError,
  ConnectionError,
  ConnectionBindError,
  WriteError,
  ReadError,
  UnknownReadFailure,
  ProtocolError,
  ClientError,
  ServerError,
  SocketCreateError,
  DataExists,
  DataDoesNotExist,
  NotFound,
  AllocationError,
  SomeErrors,
  NoServers,
  UnixSocketError,
  NotSupportedError,
  FetchNotFinished,
  BadKeyProvided,
  InvalidHostProtocolError,
  ServerDead,
  ServerDown,
  TooBig,
  UnknownStatKey,
  Timeout,
  InvalidArguments,
  NotStored,
  AuthError,
]);

/** `[name, class]` for every class in {@linkcode errors}, as pylibmc's `exceptions`. */
export const exceptions: readonly (readonly [string, ErrorClass])[] = Object
  .freeze(
    errors.map((Class) => Object.freeze([Class.name, Class] as const)),
  );
