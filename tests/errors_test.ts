/**
 * The error classes, their catalogs, and classify(): the one table from a
 * status to an error class.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as memcached from "../mod.ts";
import {
  classify,
  consequence,
  errorFor,
  errors,
  exceptions,
  isRetriable,
  isSuccess,
  Status,
} from "../mod.ts";

const REQUIRED = [
  "Error",
  "MemcachedError",
  "CacheMiss",
  "ConnectionError",
  "ConnectionBindError",
  "HostLookupError",
  "SocketCreateError",
  "UnixSocketError",
  "ProtocolError",
  "WriteError",
  "ReadError",
  "UnknownReadFailure",
  "ServerError",
  "ClientError",
  "ServerDead",
  "ServerDown",
  "NoServers",
  "DataExists",
  "DataDoesNotExist",
  "NotFound",
  "BadKeyProvided",
  "TooBig",
  "Failure",
  "AllocationError",
  "SomeErrors",
  "FetchNotFinished",
  "NotSupportedError",
  "InvalidHostProtocolError",
  "UnknownStatKey",
  "Timeout",
] as const;

const STATUS_NAMES = [
  "SUCCESS",
  "FAILURE",
  "HOST_LOOKUP_FAILURE",
  "CONNECTION_FAILURE",
  "CONNECTION_BIND_FAILURE",
  "WRITE_FAILURE",
  "READ_FAILURE",
  "UNKNOWN_READ_FAILURE",
  "PROTOCOL_ERROR",
  "CLIENT_ERROR",
  "SERVER_ERROR",
  "ERROR",
  "DATA_EXISTS",
  "DATA_DOES_NOT_EXIST",
  "NOTSTORED",
  "STORED",
  "NOTFOUND",
  "MEMORY_ALLOCATION_FAILURE",
  "PARTIAL_READ",
  "SOME_ERRORS",
  "NO_SERVERS",
  "END",
  "DELETED",
  "VALUE",
  "STAT",
  "ITEM",
  "ERRNO",
  "FAIL_UNIX_SOCKET",
  "NOT_SUPPORTED",
  "NO_KEY_PROVIDED",
  "FETCH_NOTFINISHED",
  "TIMEOUT",
  "BUFFERED",
  "BAD_KEY_PROVIDED",
  "INVALID_HOST_PROTOCOL",
  "SERVER_MARKED_DEAD",
  "UNKNOWN_STAT_KEY",
  "E2BIG",
  "INVALID_ARGUMENTS",
  "KEY_TOO_BIG",
  "AUTH_PROBLEM",
  "AUTH_FAILURE",
  "AUTH_CONTINUE",
  "PARSE_ERROR",
  "PARSE_USER_ERROR",
  "DEPRECATED",
  "IN_PROGRESS",
  "SERVER_TEMPORARILY_DISABLED",
  "SERVER_MEMORY_ALLOCATION_FAILURE",
];

const byName = memcached as unknown as Record<string, typeof memcached.Error>;

describe("errors", () => {
  test("Status has libmemcached's names and numbers, 0 to 48", () => {
    STATUS_NAMES.forEach((name, n) => {
      assert.equal(Status[name as keyof typeof Status], n, name);
      assert.equal(Status[n], name);
    });
  });

  test("every required class is exported, named for itself, and extends Error", () => {
    for (const name of REQUIRED) {
      const Class = byName[name];
      assert.equal(typeof Class, "function", name);
      const err = new Class("boom");
      assert.ok(err instanceof memcached.Error, name);
      assert.ok(err instanceof globalThis.Error, name);
      assert.equal(err.name, name === "MemcachedError" ? "Error" : name);
    }
  });

  test("MemcachedError is the same class as Error", () => {
    assert.equal(memcached.MemcachedError, memcached.Error);
    assert.notEqual(memcached.Error, globalThis.Error);
  });

  test("classify maps pylibmc's statuses to pylibmc's classes", () => {
    const expected: [Status, string][] = [
      [Status.FAILURE, "Failure"],
      [Status.HOST_LOOKUP_FAILURE, "HostLookupError"],
      [Status.CONNECTION_FAILURE, "ConnectionError"],
      [Status.CONNECTION_BIND_FAILURE, "ConnectionBindError"],
      [Status.WRITE_FAILURE, "WriteError"],
      [Status.READ_FAILURE, "ReadError"],
      [Status.UNKNOWN_READ_FAILURE, "UnknownReadFailure"],
      [Status.PROTOCOL_ERROR, "ProtocolError"],
      [Status.CLIENT_ERROR, "ClientError"],
      [Status.SERVER_ERROR, "ServerError"],
      [Status.DATA_EXISTS, "DataExists"],
      [Status.DATA_DOES_NOT_EXIST, "DataDoesNotExist"],
      [Status.NOTFOUND, "NotFound"],
      [Status.MEMORY_ALLOCATION_FAILURE, "AllocationError"],
      [Status.SOME_ERRORS, "SomeErrors"],
      [Status.NO_SERVERS, "NoServers"],
      [Status.FAIL_UNIX_SOCKET, "UnixSocketError"],
      [Status.NOT_SUPPORTED, "NotSupportedError"],
      [Status.FETCH_NOTFINISHED, "FetchNotFinished"],
      [Status.BAD_KEY_PROVIDED, "BadKeyProvided"],
      [Status.INVALID_HOST_PROTOCOL, "InvalidHostProtocolError"],
      [Status.SERVER_MARKED_DEAD, "ServerDead"],
      [Status.UNKNOWN_STAT_KEY, "UnknownStatKey"],
      [Status.E2BIG, "TooBig"],
      [Status.SERVER_TEMPORARILY_DISABLED, "ServerDown"],
    ];
    for (const [status, name] of expected) {
      assert.equal(classify(status)?.name, name, Status[status]);
    }
  });

  test("classify reports the server's ERROR reply as NotSupportedError, not SocketCreateError", () => {
    assert.equal(classify(Status.ERROR), memcached.NotSupportedError);
    assert.equal(classify(Status.ERRNO), memcached.SocketCreateError);
  });

  test("classify gives statuses pylibmc leaves unmapped a class of their own", () => {
    assert.equal(classify(Status.TIMEOUT), memcached.Timeout);
    assert.equal(classify(Status.AUTH_FAILURE), memcached.AuthError);
    assert.equal(classify(Status.AUTH_PROBLEM), memcached.AuthError);
    assert.equal(classify(Status.INVALID_ARGUMENTS), memcached.InvalidArguments);
    assert.equal(classify(Status.KEY_TOO_BIG), memcached.BadKeyProvided);
  });

  test("classify is total: success statuses give no class, every other status one", () => {
    for (let n = 0; n <= 48; n++) {
      const Class = classify(n);
      if (isSuccess(n)) assert.equal(Class, undefined, Status[n]);
      else assert.ok(Class && errors.includes(Class), Status[n]);
    }
  });

  test("errorFor names the operation, key and server, and keeps status and cause", () => {
    const cause = new globalThis.Error("ECONNREFUSED");
    const err = errorFor(Status.CONNECTION_FAILURE, "connection refused", {
      operation: "get",
      key: "user:1",
      server: "127.0.0.1:1",
      cause,
    });
    assert.ok(err instanceof memcached.ConnectionError);
    assert.equal(err.message, 'get "user:1" on 127.0.0.1:1: connection refused');
    assert.equal(err.status, Status.CONNECTION_FAILURE);
    assert.equal(err.operation, "get");
    assert.equal(err.key, "user:1");
    assert.equal(err.server, "127.0.0.1:1");
    assert.equal(err.cause, cause);
  });

  test("an instance made directly has its class's status", () => {
    assert.equal(new memcached.NotFound().status, Status.NOTFOUND);
    assert.equal(new memcached.Timeout().status, Status.TIMEOUT);
  });

  test("errors is a frozen tuple of every class and exceptions its frozen [name, class] pairs", () => {
    assert.ok(Object.isFrozen(errors));
    assert.ok(Object.isFrozen(exceptions));
    assert.equal(errors[0], memcached.Error);
    assert.equal(errors[1], memcached.CacheMiss);
    for (const name of REQUIRED.filter((n) => n !== "MemcachedError")) {
      assert.ok(errors.includes(byName[name]), name);
    }
    assert.deepEqual(exceptions.map(([name]) => name), errors.map((Class) => Class.name));
    assert.ok(exceptions.every(([name, Class]) => byName[name] === Class));
  });
});

describe("what a failure means for the connection and the server", () => {
  test("a socket or server failure resets the connection and counts against the server", () => {
    for (
      const status of [
        Status.CONNECTION_FAILURE,
        Status.HOST_LOOKUP_FAILURE,
        Status.READ_FAILURE,
        Status.WRITE_FAILURE,
        Status.FAIL_UNIX_SOCKET,
        Status.TIMEOUT,
      ]
    ) {
      assert.deepEqual(
        consequence(status),
        { reusable: false, serverFailure: true, retriable: true },
        Status[status],
      );
    }
  });

  test("a garbled reply resets the connection but does not count against the server", () => {
    assert.deepEqual(consequence(Status.PROTOCOL_ERROR), {
      reusable: false,
      serverFailure: false,
      retriable: true,
    });
  });

  test("a refused login resets the connection, counts nothing, and is not retriable", () => {
    assert.deepEqual(consequence(Status.AUTH_FAILURE), {
      reusable: false,
      serverFailure: false,
      retriable: false,
    });
  });

  test("the server's own answers leave the connection and the server alone", () => {
    for (
      const status of [
        Status.NOTFOUND,
        Status.NOTSTORED,
        Status.DATA_EXISTS,
        Status.E2BIG,
        Status.CLIENT_ERROR,
        Status.SERVER_ERROR,
        Status.ERROR,
      ]
    ) {
      assert.deepEqual(
        consequence(status),
        { reusable: true, serverFailure: false, retriable: false },
        Status[status],
      );
    }
  });

  test("isRetriable accepts servers down or failing, timeouts and garbled replies only", () => {
    for (const Class of [memcached.ServerDown, memcached.NoServers, memcached.Timeout]) {
      assert.equal(isRetriable(new Class()), true, Class.name);
    }
    assert.equal(isRetriable(new memcached.ConnectionError()), true);
    assert.equal(isRetriable(new memcached.ProtocolError()), true);
    for (
      const Class of [
        memcached.NotFound,
        memcached.DataExists,
        memcached.TooBig,
        memcached.BadKeyProvided,
        memcached.ClientError,
        memcached.AuthError,
        memcached.SomeErrors,
      ]
    ) {
      assert.equal(isRetriable(new Class()), false, Class.name);
    }
    assert.equal(isRetriable(new DOMException("aborted", "AbortError")), false);
    assert.equal(isRetriable(new TypeError("bad")), false);
  });
});
