/** Server entries in pylibmc's forms. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InvalidHostProtocolError, parseServer } from "../mod.ts";

describe("server entries", () => {
  test("host, host:port and host:port:weight", () => {
    assert.deepEqual(parseServer("cache"), { kind: "tcp", host: "cache", port: 11211, weight: 1 });
    assert.deepEqual(parseServer("10.0.0.1:22122"), {
      kind: "tcp",
      host: "10.0.0.1",
      port: 22122,
      weight: 1,
    });
    assert.deepEqual(parseServer("cache-1.local:11212:3"), {
      kind: "tcp",
      host: "cache-1.local",
      port: 11212,
      weight: 3,
    });
  });

  test("IPv6 addresses in brackets", () => {
    assert.deepEqual(parseServer("[::1]"), { kind: "tcp", host: "::1", port: 11211, weight: 1 });
    assert.deepEqual(parseServer("[::1]:22122:2"), {
      kind: "tcp",
      host: "::1",
      port: 22122,
      weight: 2,
    });
  });

  test("Unix socket paths", () => {
    assert.deepEqual(parseServer("/run/memcached.sock"), {
      kind: "unix",
      path: "/run/memcached.sock",
      weight: 1,
    });
  });

  test("memcached:// URLs", () => {
    assert.deepEqual(parseServer("memcached://cache:11300"), {
      kind: "tcp",
      host: "cache",
      port: 11300,
      weight: 1,
    });
    assert.deepEqual(parseServer("memcached://[::1]/"), {
      kind: "tcp",
      host: "::1",
      port: 11211,
      weight: 1,
    });
  });

  test("malformed entries are InvalidHostProtocolError", () => {
    const bad = [
      "",
      ":11211",
      "host:",
      "host:0",
      "host:65536",
      "host:port",
      "host:1:0",
      "host:1:2:3",
      "[::1",
      "[::1]x",
      "[nothost]:1",
      "http://cache:11211",
      "memcached://cache:1:2",
      "memcached://user@cache",
      "ca che",
      "cache\r\n",
      "/",
      "/run/memcached/",
    ];
    for (const spec of bad) assert.throws(() => parseServer(spec), InvalidHostProtocolError, spec);
  });
});
