/**
 * What mod.ts exports, pinned: moving files behind it must not add, drop
 * or rename a public name.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as memcached from "../mod.ts";

const EXPORTS = [
  "AllocationError",
  "AuthError",
  "BadKeyProvided",
  "CacheMiss",
  "Client",
  "ClientError",
  "ClientPool",
  "Codec",
  "ConnectionBindError",
  "ConnectionError",
  "DataDoesNotExist",
  "DataExists",
  "Error",
  "Failure",
  "FetchNotFinished",
  "Flags",
  "HostLookupError",
  "InvalidArguments",
  "InvalidHostProtocolError",
  "MemcachedError",
  "NoServers",
  "NotFound",
  "NotStored",
  "NotSupportedError",
  "PoolExhausted",
  "ProtocolError",
  "ReadError",
  "ServerDead",
  "ServerDown",
  "ServerError",
  "SocketCreateError",
  "SocketFailure",
  "SomeErrors",
  "Status",
  "Timeout",
  "TlsError",
  "TooBig",
  "UnixSocketError",
  "UnknownReadFailure",
  "UnknownStatKey",
  "UnreadableValue",
  "WriteError",
  "classify",
  "connectBun",
  "connectDeno",
  "connectNode",
  "connectWorkers",
  "consequence",
  "errorFor",
  "errors",
  "exceptions",
  "isRetriable",
  "isSuccess",
  "parseServer",
  "pylibmcSerializer",
  "runtime",
  "workersConnector",
];

describe("mod.ts", () => {
  test("exports exactly the public names", () => {
    assert.deepEqual(Object.keys(memcached).sort(), EXPORTS);
  });

  test("MemcachedError is the base class, and Error is pylibmc's name for it", () => {
    assert.equal(memcached.Error, memcached.MemcachedError);
    assert.equal(memcached.MemcachedError.name, "MemcachedError");
    assert.equal(new memcached.MemcachedError().name, "Error");
    assert.ok(new memcached.Timeout() instanceof memcached.MemcachedError);
  });
});
