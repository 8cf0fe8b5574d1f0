/**
 * Bad input gets a clear error at the call, and not one byte reaches the
 * server: its `bytes_read` counter only grows by the stats requests that
 * read it.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BadKeyProvided, Client, InvalidArguments, TooBig } from "../mod.ts";
import { type Memcached, raw, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

const STATS_REQUEST = "stats\r\n".length;

const BAD_KEYS: [string, string][] = [
  ["empty", ""],
  ["251 bytes", "k".repeat(251)],
  ["126 two-byte characters", "é".repeat(126)],
  ["a space", "a b"],
  ["a tab", "a\tb"],
  ["a CR", "a\rb"],
  ["a LF", "a\nb"],
  ["CR LF and a command", "a\r\nflush_all"],
  ["a NUL", "a\0b"],
  ["DEL", "a\x7fb"],
  ["a C1 control", "a\x9bb"],
  ["a lone surrogate", "a\ud800b"],
];

const NOT_STRINGS: unknown[] = [1, null, undefined, {}, ["k"], Symbol("k"), 1n, new Uint8Array(1)];

suite("bad input", ["memcached"], () => {
  let server: Memcached;
  let client: Client;

  before(async () => {
    server = await startMemcached();
    client = new Client(server.server);
  });
  after(async () => {
    client?.close();
    await server?.stop();
  });

  async function bytesRead(): Promise<number> {
    return Number(/STAT bytes_read (\d+)/.exec(await raw(server.server, "stats\r\n"))![1]);
  }

  /** Every call made by `calls` rejects with `expected`, and the server read nothing. */
  async function refused(
    calls: (c: Client) => Promise<unknown>[],
    expected: (err: unknown) => boolean,
  ): Promise<void> {
    const before = await bytesRead();
    for (const call of calls(client)) {
      await assert.rejects(call, (err) => {
        assert.ok(expected(err), String(err));
        return true;
      });
    }
    assert.equal(await bytesRead() - before, STATS_REQUEST, "the server read no request");
  }

  const everyOperation = (key: unknown) => (c: Client): Promise<unknown>[] => {
    const k = key as string;
    return [
      c.get(k),
      c.gets(k),
      c.set(k, 1),
      c.add(k, 1),
      c.replace(k, 1),
      c.append(k, "x"),
      c.prepend(k, "x"),
      c.cas(k, 1, 1n),
      c.delete(k),
      c.incr(k),
      c.decr(k),
      c.touch(k, 1),
      c.getMulti(["fine", k]),
      c.setMulti([["fine", 1], [k, 1]]),
      c.addMulti([["fine", 1], [k, 1]]),
      c.deleteMulti(["fine", k]),
      c.incrMulti(["fine", k]),
    ];
  };

  for (const [what, key] of BAD_KEYS) {
    test(`a key with ${what} is BadKeyProvided in every operation`, async () => {
      await refused(everyOperation(key), (err) => err instanceof BadKeyProvided);
    });
  }

  test("a key that is not a string is a TypeError in every operation", async () => {
    for (const key of NOT_STRINGS) {
      await refused(everyOperation(key), (err) => err instanceof TypeError);
    }
  });

  test("a key prefix that would make keys invalid is BadKeyProvided", async () => {
    await using prefixed = new Client(server.server, { keyPrefix: "bad prefix:" });
    const before = await bytesRead();
    await assert.rejects(prefixed.get("k"), BadKeyProvided);
    assert.equal(await bytesRead() - before, STATS_REQUEST);
  });

  test("values that cannot be stored are InvalidArguments", async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await refused(
      (c) =>
        [undefined, () => 1, Symbol("v"), NaN, Infinity, cyclic, { big: 1n }].map((value) =>
          c.set("k", value)
        ),
      (err) => err instanceof InvalidArguments,
    );
  });

  test("a value over maxValueSize is TooBig; only the delete of its key is sent", async () => {
    await using small = new Client(server.server, { maxValueSize: 100 });
    const before = await bytesRead();
    await assert.rejects(small.set("k", "x".repeat(101)), TooBig);
    assert.deepEqual(await small.setMulti({ k: "x".repeat(101) }), ["k"]);
    // Two deletes of "k" (meta `md k O<n>`), never the value.
    assert.ok(await bytesRead() - before < STATS_REQUEST + 40);
  });

  test("negative or fractional numbers are InvalidArguments", async () => {
    await refused(
      (c) => [
        c.set("k", 1, { ttl: -1 }),
        c.set("k", 1, { ttl: 0.5 }),
        c.set("k", 1, { ttl: 2 ** 31 }),
        c.touch("k", -5),
        c.incr("k", -1),
        c.incr("k", 1.5),
        c.decr("k", 2n ** 64n),
        c.incrMulti(["k"], -1),
        c.get("k", { timeout: 0 }),
        c.get("k", { timeout: -1 }),
        c.flushAll({ delay: -1 }),
      ],
      (err) => err instanceof InvalidArguments,
    );
  });

  test("numbers of the wrong type are a TypeError", async () => {
    await refused(
      (c) => [
        c.set("k", 1, { ttl: "10" as unknown as number }),
        c.incr("k", "1" as unknown as number),
        c.get("k", { timeout: "5" as unknown as number }),
        c.cas("k", 1, 5 as unknown as bigint),
        c.get("k", { signal: "stop" as unknown as AbortSignal }),
      ],
      (err) => err instanceof TypeError,
    );
  });

  test("unknown option names are InvalidArguments", async () => {
    await refused(
      (c) => [
        c.get("k", { timeot: 5 } as never),
        c.set("k", 1, { tll: 5 } as never),
        c.flushAll({ dealy: 5 } as never),
      ],
      (err) => err instanceof InvalidArguments,
    );
    assert.throws(() => new Client(server.server, { keyprefix: "x" } as never), InvalidArguments);
    assert.throws(
      () => new Client(server.server, { behaviors: { ketamma: true } as never }),
      InvalidArguments,
    );
  });

  test("a stats group that is not one token is InvalidArguments", async () => {
    await refused(
      (c) => [c.stats("items\r\nflush_all"), c.stats("slabs 1"), c.stats("")],
      (err) => err instanceof InvalidArguments,
    );
  });
});
