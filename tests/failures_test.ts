/**
 * Every error that can be produced on purpose against a real memcached, and
 * what the client does around timeouts, aborts and closing.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  BadKeyProvided,
  Client,
  ConnectionError,
  HostLookupError,
  InvalidArguments,
  InvalidHostProtocolError,
  NoServers,
  Timeout,
  TooBig,
  UnixSocketError,
  UnknownStatKey,
} from "../mod.ts";
import { freePort, type Memcached, raw, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

async function counters(server: string): Promise<Record<string, number>> {
  const reply = await raw(server, "stats\r\n");
  const stats: Record<string, number> = {};
  for (const [, name, value] of reply.matchAll(/STAT (\w+) (\d+)\r\n/g)) {
    stats[name] = Number(value);
  }
  return stats;
}

const commands = (s: Record<string, number>) =>
  s.cmd_get + s.cmd_set + s.cmd_touch + s.cmd_flush + s.delete_hits + s.delete_misses +
  s.incr_hits + s.incr_misses;

suite("failures", ["memcached"], () => {
  let server: Memcached;
  let client: Client;

  before(async () => {
    server = await startMemcached();
    client = new Client(server.server, { timeout: 2000 });
  });
  after(async () => {
    client?.close();
    await server?.stop();
  });

  test("a refused port is ConnectionError naming the operation, key and server", async () => {
    const port = await freePort();
    await using down = new Client(`127.0.0.1:${port}`);
    const err = await down.get("k").catch((e) => e);
    assert.ok(err instanceof ConnectionError, String(err));
    assert.equal(err.server, `127.0.0.1:${port}`);
    assert.match(err.message, new RegExp(`^get "k" on 127\\.0\\.0\\.1:${port}: `));
  });

  test("an unknown host is HostLookupError", async () => {
    await using nowhere = new Client("no-such-host.invalid:11211");
    await assert.rejects(nowhere.get("k"), HostLookupError);
  });

  test("a missing Unix socket is UnixSocketError", async () => {
    await using missing = new Client("/tmp/no-such-dir/memcached.sock");
    await assert.rejects(missing.get("k"), UnixSocketError);
  });

  test("malformed server entries are InvalidHostProtocolError; an empty list is NoServers", () => {
    assert.throws(() => new Client("host:port"), InvalidHostProtocolError);
    assert.throws(() => new Client([]), NoServers);
  });

  test("bad keys are BadKeyProvided and nothing reaches the server", async () => {
    const before = await counters(server.server);
    const bad = ["", "a b", "a\r\nflush_all", "x".repeat(251), "tab\there", "nul\0", "a\ud800"];
    for (const key of bad) {
      await assert.rejects(client.set(key, 1), BadKeyProvided, JSON.stringify(key));
      await assert.rejects(client.get(key), BadKeyProvided);
      await assert.rejects(client.getMulti(["fine", key]), BadKeyProvided);
      await assert.rejects(client.setMulti([["fine", 1], [key, 2]]), BadKeyProvided);
    }
    assert.equal(commands(await counters(server.server)), commands(before));
  });

  test("a key that is not a string is a TypeError", async () => {
    await assert.rejects(client.get(1 as unknown as string), TypeError);
  });

  test("a value over maxValueSize is TooBig and is not sent", async () => {
    await using small = new Client(server.server, { maxValueSize: 1000 });
    const before = await counters(server.server);
    await assert.rejects(small.set("big", "x".repeat(1001)), TooBig);
    assert.equal((await counters(server.server)).cmd_set, before.cmd_set);
  });

  test("a refused value leaves no stale one: the key is deleted, as memcached does", async () => {
    await using small = new Client(server.server, { maxValueSize: 1000 });
    await small.set("stale", "old");
    await assert.rejects(small.set("stale", "x".repeat(1001)), TooBig);
    assert.equal(await small.get("stale"), undefined);
    await using compressing = new Client(server.server, {
      maxValueSize: 1000,
      compression: { threshold: 1 },
    });
    await compressing.set("stale", "old");
    const noise = crypto.getRandomValues(new Uint8Array(2000));
    await assert.rejects(compressing.set("stale", noise), TooBig);
    assert.equal(await compressing.get("stale"), undefined);
  });

  test("values the codec cannot store are InvalidArguments before sending", async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(client.set("k", cyclic), InvalidArguments);
    await assert.rejects(client.set("k", undefined), InvalidArguments);
  });

  test("a value the server's item limit refuses is TooBig", async () => {
    await using big = new Client(server.server, { maxValueSize: 4 << 20 });
    await assert.rejects(big.set("huge", new Uint8Array(3 << 20)), TooBig);
    assert.equal(await big.set("after", "fine"), true);
  });

  test("an unknown stats group is UnknownStatKey", async () => {
    await assert.rejects(client.stats("bogus"), UnknownStatKey);
    await assert.rejects(client.stats("items\r\nflush_all"), InvalidArguments);
  });

  test("bad numbers and unknown options are refused at the call", async () => {
    await assert.rejects(client.set("k", 1, { ttl: -1 }), InvalidArguments);
    await assert.rejects(client.set("k", 1, { ttl: 1.5 }), InvalidArguments);
    await assert.rejects(client.incr("k", -1), InvalidArguments);
    await assert.rejects(client.incr("k", 0.5), InvalidArguments);
    await assert.rejects(client.incr("k", 2n ** 64n), InvalidArguments);
    await assert.rejects(client.get("k", { timeout: -5 }), InvalidArguments);
    await assert.rejects(client.get("k", { tll: 5 } as never), InvalidArguments);
    assert.throws(() => new Client(server.server, { timeot: 5 } as never), InvalidArguments);
    assert.throws(
      () => new Client(server.server, { compression: { threshold: 1, level: 10 } }),
      InvalidArguments,
    );
  });

  test("values of 1 MiB, empty values and values holding END round-trip", async () => {
    const big = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
    await client.set("big", big);
    assert.deepEqual(await client.get("big"), big);
    await client.set("empty", "");
    assert.equal(await client.get("empty"), "");
    await client.set("end", "a\r\nEND\r\nb");
    assert.equal(await client.get("end"), "a\r\nEND\r\nb");
  });

  test("text is stored as its UTF-8, whatever its length and characters", async () => {
    for (
      const value of ["é", "ünïcödé ".repeat(1000), "x".repeat(100_000) + "€", "𝄞".repeat(50_000)]
    ) {
      await client.set("utf8", value);
      const bytes = new TextEncoder().encode(value).length;
      assert.match(
        await raw(server.server, "get utf8\r\n"),
        new RegExp(`^VALUE utf8 16 ${bytes}\r\n`),
      );
      assert.equal(await client.get("utf8"), value);
    }
  });

  test("JSON, integers and booleans are stored as their text with pylibmc's flags", async () => {
    const cases: [unknown, string, number][] = [
      [{ name: "Zoë", tags: ["ü", "€"] }, '{"name":"Zoë","tags":["ü","€"]}', 48],
      [[1.5, null], "[1.5,null]", 48],
      [-42, "-42", 4],
      [2n ** 64n, "18446744073709551616", 68],
      [true, "1", 2],
    ];
    for (const [value, text, flags] of cases) {
      await client.set("typed", value);
      const stored = await raw(server.server, "get typed\r\n");
      assert.equal(
        stored,
        `VALUE typed ${flags} ${new TextEncoder().encode(text).length}\r\n${text}\r\nEND\r\n`,
      );
      assert.deepEqual(await client.get("typed"), value);
    }
  });

  test("ASCII text up to maxValueSize is stored; one character more is TooBig", async () => {
    await using small = new Client(server.server, { maxValueSize: 1000 });
    await small.set("ascii", "a".repeat(1000));
    assert.equal(await small.get("ascii"), "a".repeat(1000));
    await assert.rejects(small.set("ascii", "a".repeat(1001)), TooBig);
  });

  test("text whose UTF-8 is over maxValueSize is TooBig, though it has fewer characters", async () => {
    await using small = new Client(server.server, { maxValueSize: 1000 });
    await assert.rejects(small.set("accents", "é".repeat(501)), TooBig);
    await small.set("accents", "é".repeat(500));
    assert.equal(await small.get("accents"), "é".repeat(500));
  });

  test("text whose UTF-8 reaches the compression threshold is compressed", async () => {
    await using packing = new Client(server.server, { compression: { threshold: 100 } });
    await packing.set("packed", "é".repeat(60));
    assert.match(await raw(server.server, "get packed\r\n"), /^VALUE packed 24 \d+\r\n/);
    assert.equal(await client.get("packed"), "é".repeat(60));
  });

  test("compressed values are stored with flag 8 and read back", async () => {
    await using packing = new Client(server.server, { compression: { threshold: 100 } });
    const value = "compress me ".repeat(1000);
    await packing.set("packed", value);
    assert.match(await raw(server.server, "get packed\r\n"), /^VALUE packed 24 \d+\r\n/);
    assert.equal(await client.get("packed"), value);
  });

  test("a request with no reply in time is Timeout, and later calls get their own values", async () => {
    await client.set("t1", "one");
    await server.pause();
    try {
      await assert.rejects(client.get("t1", { timeout: 200 }), Timeout);
    } finally {
      server.resume();
    }
    assert.equal(await client.get("t1"), "one");
  });

  test("a call with a short timeout of its own does not fail the calls behind it", async () => {
    await client.setMulti({ s1: "one", s2: "two" });
    await server.pause();
    const short = client.get("s1", { timeout: 100 });
    const patient = client.get("s2");
    try {
      await assert.rejects(short, Timeout);
    } finally {
      server.resume();
    }
    assert.equal(await patient, "two");
  });

  test("an aborted call rejects with the signal's reason and its reply goes to nobody", async () => {
    await client.setMulti({ a1: "A", b1: "B" });
    await server.pause();
    const controller = new AbortController();
    const pending = client.get("a1", { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort(new Error("changed my mind"));
    await assert.rejects(pending, /changed my mind/);
    const next = client.get("b1");
    server.resume();
    assert.equal(await next, "B");
  });

  test("an already aborted signal rejects at once and sends nothing", async () => {
    const before = await counters(server.server);
    await assert.rejects(client.get("k", { signal: AbortSignal.abort() }), { name: "AbortError" });
    assert.equal(commands(await counters(server.server)), commands(before));
  });

  test("close rejects waiting calls and later ones with ConnectionError", async () => {
    const closing = new Client(server.server);
    await closing.set("c", 1);
    await server.pause();
    const pending = closing.get("c");
    await new Promise((resolve) => setTimeout(resolve, 20));
    closing.close();
    server.resume();
    await assert.rejects(pending, ConnectionError);
    await assert.rejects(closing.get("c"), ConnectionError);
  });

  test("a server that goes away is ConnectionError", async () => {
    const lone = await startMemcached();
    await using c = new Client(lone.server);
    await c.set("k", 1);
    await lone.stop();
    await assert.rejects(c.get("k"), ConnectionError);
  });
});
