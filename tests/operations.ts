/**
 * The behaviour suite: every operation with the results pylibmc gives on the
 * same server. client_test.ts runs it over TCP and a Unix socket,
 * twemproxy_test.ts through a proxy.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  Client,
  ClientError,
  type ClientOptions,
  NotFound,
  NotSupportedError,
  SomeErrors,
} from "../mod.ts";
import { suite, type Tool } from "./tools.ts";

/** Where the suite runs: a server entry, and how to stop what was started for it. */
export interface Target {
  server: string;
  stop(): Promise<void>;
}

/**
 * Runs every operation against what `start` gives, with a client made with
 * `options`. Through a `proxy`, `stats` and `flushAll` must fail with
 * NotSupportedError, and the client must speak text. `tools` are what
 * `start` needs installed.
 */
export function operations(
  label: string,
  start: () => Promise<Target>,
  proxy = false,
  options: ClientOptions = {},
  tools: readonly Tool[] = ["memcached"],
): void {
  suite(`operations ${label}`, tools, () => {
    let server: Target;
    let client: Client;
    let n = 0;
    // No "-" in keys: memcached checks a counter of 2^63 or more for a minus
    // sign with strchr, which reads past the value into memory a freed item
    // may have left there, and then refuses the incr as non-numeric.
    const key = (name: string) => `${label.replace(/\W/g, "")}:${name}:${++n}`;

    before(async () => {
      server = await start();
      client = new Client(server.server, options);
    });
    after(async () => {
      client?.close();
      await server?.stop();
    });

    test("get returns undefined on a miss", async () => {
      assert.equal(await client.get(key("miss")), undefined);
    });

    test("set stores a value that get returns", async () => {
      const k = key("set");
      assert.equal(await client.set(k, "hello"), true);
      assert.equal(await client.get(k), "hello");
    });

    test("bytes come back as a plain Uint8Array that owns its memory", async () => {
      const k = key("bytes");
      await client.set(k, new Uint8Array([1, 2, 3]));
      const value = await client.get<Uint8Array>(k);
      assert.equal(value?.constructor, Uint8Array);
      assert.equal(value?.buffer.byteLength, 3);
    });

    test("gets returns the value with a bigint cas token, or undefined", async () => {
      const k = key("gets");
      assert.equal(await client.gets(k), undefined);
      await client.set(k, "v");
      const hit = await client.gets(k);
      assert.equal(hit?.value, "v");
      assert.equal(typeof hit?.cas, "bigint");
    });

    test("add returns false when the key exists", async () => {
      const k = key("add");
      assert.equal(await client.add(k, 1), true);
      assert.equal(await client.add(k, 2), false);
      assert.equal(await client.get(k), 1);
    });

    test("replace returns false when the key is missing", async () => {
      const k = key("replace");
      assert.equal(await client.replace(k, 1), false);
      await client.set(k, 1);
      assert.equal(await client.replace(k, 2), true);
      assert.equal(await client.get(k), 2);
    });

    test("append and prepend add bytes, and return false on a missing key", async () => {
      const k = key("append");
      assert.equal(await client.append(k, "x"), false);
      assert.equal(await client.prepend(k, "x"), false);
      await client.set(k, "Do");
      assert.equal(await client.append(k, "!"), true);
      assert.equal(await client.prepend(k, "I "), true);
      assert.equal(await client.get(k), "I Do!");
    });

    test("cas swaps with a fresh token, returns false with a stale one", async () => {
      const k = key("cas");
      await client.set(k, 0);
      const first = await client.gets(k);
      assert.equal(await client.cas(k, 1, first!.cas), true);
      assert.equal(await client.cas(k, 2, first!.cas), false);
      assert.equal(await client.get(k), 1);
    });

    test("cas on a missing key is NotFound", async () => {
      const k = key("casMissing");
      await client.set(k, 0);
      const token = (await client.gets(k))!.cas;
      await client.delete(k);
      await assert.rejects(client.cas(k, 1, token), NotFound);
    });

    test("delete returns true, then false when missing", async () => {
      const k = key("delete");
      await client.set(k, 1);
      assert.equal(await client.delete(k), true);
      assert.equal(await client.delete(k), false);
      assert.equal(await client.get(k), undefined);
    });

    test("incr and decr return the new value; decr stops at 0", async () => {
      const k = key("counter");
      await client.set(k, 10);
      assert.equal(await client.incr(k), 11);
      assert.equal(await client.incr(k, 5), 16);
      assert.equal(await client.decr(k, 6), 10);
      assert.equal(await client.decr(k, 100), 0);
      assert.equal(await client.get(k), 0);
    });

    test("incr covers the unsigned 64-bit range with bigints and wraps at 2^64", async () => {
      const k = key("big");
      await client.set(k, 2n ** 53n);
      assert.equal(await client.incr(k, 1n), 2n ** 53n + 1n);
      await client.set(k, 2n ** 64n - 2n);
      assert.equal(await client.incr(k, 1n), 2n ** 64n - 1n);
      assert.equal(await client.incr(k, 1n), 0n);
      assert.equal(await client.incr(k, 2n ** 63n), 2n ** 63n);
    });

    test("incr on a missing key is NotFound", async () => {
      await assert.rejects(client.incr(key("nope")), NotFound);
    });

    test("incr on a value that is not a number is ClientError", async () => {
      const k = key("text");
      await client.set(k, "abc");
      await assert.rejects(client.incr(k), ClientError);
    });

    test("touch returns true for a present key and false for a missing one", async () => {
      const k = key("touch");
      assert.equal(await client.touch(k, 10), false);
      await client.set(k, 1);
      assert.equal(await client.touch(k, 10), true);
    });

    test("an item set with a ttl of 1 second expires", async () => {
      const k = key("ttl");
      await client.set(k, 1, { ttl: 1 });
      assert.equal(await client.get(k), 1);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      assert.equal(await client.get(k), undefined);
    });

    test("getMulti returns a Map of the hits only, in the order asked", async () => {
      const [a, b, c] = [key("ma"), key("mb"), key("mc")];
      await client.set(a, "A");
      await client.set(c, 3);
      const hits = await client.getMulti([c, b, a]);
      assert.deepEqual([...hits], [[c, 3], [a, "A"]]);
      assert.deepEqual(await client.getMulti([]), new Map());
    });

    test("getMulti of a key listed twice returns it once, in its first place", async () => {
      const [a, b] = [key("twiceA"), key("twiceB")];
      await client.setMulti([[a, "A"], [b, "B"]]);
      assert.deepEqual([...await client.getMulti([a, b, a, a])], [[a, "A"], [b, "B"]]);
    });

    test("getMulti of 1000 keys returns every value", async () => {
      const entries = Array.from({ length: 1000 }, (_, i) => [key(`bulk${i}`), i] as const);
      assert.deepEqual(await client.setMulti(entries), []);
      const hits = await client.getMulti(entries.map(([k]) => k));
      assert.deepEqual(hits, new Map(entries));
    });

    test("setMulti returns no keys when all are stored; addMulti returns the existing ones", async () => {
      const [a, b] = [key("sa"), key("sb")];
      assert.deepEqual(await client.setMulti({ [a]: 1 }), []);
      assert.deepEqual(await client.addMulti(new Map([[a, 2], [b, 3]])), [a]);
      assert.deepEqual(await client.getMulti([a, b]), new Map([[a, 1], [b, 3]]));
    });

    test("deleteMulti is true when every key was deleted, false when some were missing", async () => {
      const [a, b] = [key("da"), key("db")];
      await client.setMulti([[a, 1], [b, 2]]);
      assert.equal(await client.deleteMulti([a, b]), true);
      await client.set(a, 1);
      assert.equal(await client.deleteMulti([a, b]), false);
    });

    test("incrMulti increments every present key and returns the new values", async () => {
      const [a, b] = [key("ia"), key("ib")];
      await client.setMulti([[a, 1], [b, 10]]);
      assert.deepEqual(await client.incrMulti([a, b], 2), new Map([[a, 3], [b, 12]]));
    });

    test("incrMulti names the missing keys in NotFound and keeps the increments that worked", async () => {
      const [a, missing] = [key("ja"), key("jmissing")];
      await client.set(a, 1);
      const err = await client.incrMulti([a, missing]).catch((e) => e);
      assert.ok(err instanceof NotFound);
      assert.deepEqual(err.keys, [missing]);
      assert.deepEqual(err.results, new Map([[a, 2]]));
      assert.match(err.message, new RegExp(missing));
      assert.equal(await client.get(a), 2);
    });

    test("a multi-key call that fails for some keys throws SomeErrors with the rest", async () => {
      const [a, b] = [key("pa"), key("pb")];
      await client.set(a, 1);
      await client.set(b, "not a number");
      const err = await client.incrMulti([a, b]).catch((e) => e);
      assert.ok(err instanceof SomeErrors);
      assert.deepEqual(err.results, new Map([[a, 2]]));
      assert.ok(err.errors.get(b) instanceof ClientError);
    });

    test("getAndTouch returns the value and sets the ttl", async () => {
      const k = key("gat");
      if (proxy) return void await assert.rejects(client.getAndTouch(k, 100), NotSupportedError);
      assert.equal(await client.getAndTouch(k, 100), undefined);
      await client.set(k, "v", { ttl: 1 });
      assert.equal(await client.getAndTouch(k, 100), "v");
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(await client.get(k), "v");
    });

    if (proxy || options.protocol === "text" || options.protocol === "binary") {
      test("getWithMeta is NotSupportedError without the meta protocol", async () => {
        await assert.rejects(client.getWithMeta(key("meta")), NotSupportedError);
      });
    } else {
      test("getWithMeta returns the value with cas, flags, ttl and whether it was read", async () => {
        const k = key("meta");
        assert.equal(await client.getWithMeta(k), undefined);
        await client.set(k, "text", { ttl: 100 });
        const first = await client.getWithMeta(k);
        assert.equal(first?.value, "text");
        assert.equal(first?.flags, 16);
        assert.equal(typeof first?.cas, "bigint");
        assert.ok(first!.ttl! > 90 && first!.ttl! <= 100);
        assert.equal(first?.hitBefore, false);
        assert.equal((await client.getWithMeta(k))?.hitBefore, true);
        await client.set(k, 1);
        assert.equal((await client.getWithMeta(k))?.ttl, undefined);
      });
    }

    if (proxy || options.protocol === "binary") {
      test("listKeys is NotSupportedError", async () => {
        await assert.rejects(client.listKeys(), NotSupportedError);
      });
    } else {
      test("listKeys lists every key with its expiry and size", async () => {
        const k = key("listed");
        await client.set(k, "v", { ttl: 1000 });
        const entries = (await client.listKeys()).get(server.server)!;
        const entry = entries.find((e) => e.key === k);
        assert.ok(entry, "the key is listed");
        assert.ok(entry.exp > Date.now() / 1000 + 900);
        assert.ok(entry.size > 0);
        assert.equal(typeof entry.cas, "bigint");
      });
    }

    test("version returns each server's version", async () => {
      const versions = await client.version();
      assert.match(versions.get(server.server)!, /^\d+\.\d+\.\d+/);
    });

    if (proxy) {
      test("stats, flushAll and getAndTouch fail with NotSupportedError, and the next call works", async () => {
        await assert.rejects(client.stats(), NotSupportedError);
        await assert.rejects(client.flushAll(), NotSupportedError);
        const k = key("after");
        await client.set(k, 1);
        assert.equal(await client.get(k), 1);
      });
    } else {
      test("stats returns the server's statistics keyed by server name", async () => {
        const stats = await client.stats();
        assert.deepEqual([...stats.keys()], [server.server]);
        assert.match(stats.get(server.server)!.version, /^1\.\d+\.\d+/);
        const settings = (await client.stats("settings")).get(server.server)!;
        assert.equal(settings.item_size_max, String(2 * 1024 * 1024));
      });

      test("flushAll invalidates every item", async () => {
        const k = key("flush");
        await client.set(k, 1);
        assert.deepEqual(await client.flushAll(), new Map([[server.server, true]]));
        assert.equal(await client.get(k), undefined);
      });
    }

    test("a keyPrefix is applied on the wire and removed from getMulti's keys", async () => {
      const prefixed = new Client(server.server, { ...options, keyPrefix: "app:" });
      try {
        await prefixed.set("one", 1);
        assert.equal(await client.get("app:one"), 1);
        assert.deepEqual(await prefixed.getMulti(["one"]), new Map([["one", 1]]));
      } finally {
        prefixed.close();
      }
    });

    test("concurrent calls are pipelined and each gets its own reply", async () => {
      const keys = Array.from({ length: 300 }, (_, i) => key(`pipe${i}`));
      await Promise.all(keys.map((k) => client.set(k, k)));
      const values = await Promise.all(keys.map((k) => client.get(k)));
      assert.deepEqual(values, keys);
    });
  });
}
