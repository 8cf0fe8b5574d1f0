/**
 * Outcomes of memcached requests, named and numbered as libmemcached's
 * `memcached_return_t`, so that a status reads the same here as in pylibmc or
 * any other libmemcached client.
 *
 * Every decoder and transport reports outcomes as a {@linkcode Status}; the
 * client turns the ones that are failures into errors with `classify`.
 *
 * @module
 */

/**
 * A libmemcached return code.
 *
 * @example
 * ```ts
 * import { Status } from "./status.ts";
 * Status.NOTFOUND; // 16
 * Status[16]; // "NOTFOUND"
 * ```
 */
export enum Status {
  SUCCESS = 0,
  FAILURE = 1,
  HOST_LOOKUP_FAILURE = 2,
  CONNECTION_FAILURE = 3,
  CONNECTION_BIND_FAILURE = 4,
  WRITE_FAILURE = 5,
  READ_FAILURE = 6,
  UNKNOWN_READ_FAILURE = 7,
  PROTOCOL_ERROR = 8,
  CLIENT_ERROR = 9,
  SERVER_ERROR = 10,
  ERROR = 11,
  DATA_EXISTS = 12,
  DATA_DOES_NOT_EXIST = 13,
  NOTSTORED = 14,
  STORED = 15,
  NOTFOUND = 16,
  MEMORY_ALLOCATION_FAILURE = 17,
  PARTIAL_READ = 18,
  SOME_ERRORS = 19,
  NO_SERVERS = 20,
  END = 21,
  DELETED = 22,
  VALUE = 23,
  STAT = 24,
  ITEM = 25,
  ERRNO = 26,
  FAIL_UNIX_SOCKET = 27,
  NOT_SUPPORTED = 28,
  NO_KEY_PROVIDED = 29,
  FETCH_NOTFINISHED = 30,
  TIMEOUT = 31,
  BUFFERED = 32,
  BAD_KEY_PROVIDED = 33,
  INVALID_HOST_PROTOCOL = 34,
  SERVER_MARKED_DEAD = 35,
  UNKNOWN_STAT_KEY = 36,
  E2BIG = 37,
  INVALID_ARGUMENTS = 38,
  KEY_TOO_BIG = 39,
  AUTH_PROBLEM = 40,
  AUTH_FAILURE = 41,
  AUTH_CONTINUE = 42,
  PARSE_ERROR = 43,
  PARSE_USER_ERROR = 44,
  DEPRECATED = 45,
  IN_PROGRESS = 46,
  SERVER_TEMPORARILY_DISABLED = 47,
  SERVER_MEMORY_ALLOCATION_FAILURE = 48,
}

/**
 * Whether a status reports success, as libmemcached's `memcached_success`
 * decides: SUCCESS, STORED, END, DELETED, VALUE, STAT, ITEM and BUFFERED.
 *
 * @example
 * ```ts
 * import { isSuccess, Status } from "./status.ts";
 * isSuccess(Status.STORED); // true
 * isSuccess(Status.NOTFOUND); // false
 * ```
 */
export function isSuccess(status: Status): boolean {
  switch (status) {
    case Status.SUCCESS:
    case Status.STORED:
    case Status.END:
    case Status.DELETED:
    case Status.VALUE:
    case Status.STAT:
    case Status.ITEM:
    case Status.BUFFERED:
      return true;
    default:
      return false;
  }
}
