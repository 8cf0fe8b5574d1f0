/**
 * Pipelining and batching against a real memcached, seen through a
 * connector that records what the client writes.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import process from "node:process";
import { CacheMiss, Client, UnreadableValue } from "../mod.ts";
import { collectGarbage } from "./gc.ts";
import { recording } from "./recording.ts";
import { type Memcached, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

const commands = (writes: string[], verb: string) =>
  writes.join("").split("\r\n").filter((line) => line.startsWith(verb + " "));

/**
 * The get requests written, each as its list of keys: a text `get` line, or
 * meta `mg` lines, quiet ones gathered up to their `mn`.
 */
function getRequests(writes: string[]): string[][] {
  const requests: string[][] = [];
  let quiet: string[] = [];
  for (const line of writes.join("").split("\r\n")) {
    const words = line.split(" ");
    if (words[0] === "get") requests.push(words.slice(1));
    else if (words[0] === "mg" && words.includes("q")) quiet.push(words[1]);
    else if (words[0] === "mg") requests.push([words[1]]);
    else if (words[0] === "mn" && quiet.length) requests.push(quiet), quiet = [];
  }
  return requests;
}

/**
 * Stores strings as they are; reads "unreadable" as an error of its own
 * and "stale" as a miss.
 */
const picky = {
  serialize: (value: unknown) => ({ bytes: new TextEncoder().encode(String(value)), flags: 0 }),
  deserialize: (bytes: Uint8Array) => {
    const text = new TextDecoder().decode(bytes);
    if (text === "unreadable") throw new TypeError("cannot read this");
    if (text === "stale") throw new CacheMiss("treat as missing");
    return text;
  },
};

for (const protocol of ["text", "meta"] as const) {
  suite(`pipelining and batching, ${protocol} protocol`, ["memcached"], () => {
    let server: Memcached;
    let seeder: Client;
    const keys = Array.from({ length: 250 }, (_, i) => `pipe:${i}`);

    before(async () => {
      server = await startMemcached();
      seeder = new Client(server.server);
      await seeder.setMulti(keys.map((key) => [key, key] as const));
    });
    after(async () => {
      seeder?.close();
      await server?.stop();
    });

    test("calls made in one tick are written together, without waiting for replies", async () => {
      const { connector, writes } = recording();
      await using client = new Client(server.server, { connector, maxConnections: 1, protocol });
      await client.get("warm");
      writes.length = 0;
      await Promise.all(keys.slice(0, 50).map((key) => client.set(key, key)));
      assert.equal(writes.length, 1);
      assert.equal(commands(writes, protocol === "text" ? "set" : "ms").length, 50);
    });

    test("gets made in one tick go out as one multi-key get, and each caller gets its value", async () => {
      const { connector, writes } = recording();
      await using client = new Client(server.server, { connector, protocol });
      const values = await Promise.all(keys.slice(0, 100).map((key) => client.get(key)));
      assert.deepEqual(values, keys.slice(0, 100));
      assert.deepEqual(getRequests(writes), [keys.slice(0, 100)]);
    });

    test("a batch of more than 100 keys is split into several gets, written together", async () => {
      const { connector, writes } = recording();
      await using client = new Client(server.server, { connector, maxConnections: 1, protocol });
      await client.get("warm");
      writes.length = 0;
      assert.deepEqual(await Promise.all(keys.map((key) => client.get(key))), keys);
      assert.equal(writes.length, 1);
      assert.equal(getRequests(writes).length, 3);
    });

    test("a key asked for twice in one tick is asked once, and each caller gets its own copy", async () => {
      const { connector, writes } = recording();
      await using client = new Client(server.server, { connector, protocol });
      await client.set("shared", new Uint8Array([1, 2, 3]));
      writes.length = 0;
      const [a, b, missing] = await Promise.all([
        client.get<Uint8Array>("shared"),
        client.get<Uint8Array>("shared"),
        client.get("pipe:none"),
      ]);
      assert.deepEqual(getRequests(writes), [["shared", "pipe:none"]]);
      a![0] = 9;
      assert.deepEqual(b, new Uint8Array([1, 2, 3]));
      assert.equal(missing, undefined);
    });

    test("in one tick's batch, a value that cannot be decoded fails only its key's gets", async () => {
      await using client = new Client(server.server, { serializer: picky, protocol });
      await client.setMulti([["d:ok", "fine"], ["d:bad", "unreadable"]]);
      const [ok, bad, badAgain] = await Promise.allSettled([
        client.get("d:ok"),
        client.get("d:bad"),
        client.get("d:bad"),
      ]);
      assert.deepEqual(ok, { status: "fulfilled", value: "fine" });
      for (const failed of [bad, badAgain]) {
        assert.equal(failed.status, "rejected");
        assert.ok(failed.reason instanceof UnreadableValue);
        assert.match(failed.reason.message, /cannot read this/);
      }
    });

    test("in one tick's batch, a value its deserializer calls a CacheMiss is a miss", async () => {
      await using client = new Client(server.server, { serializer: picky, protocol });
      await client.setMulti([["d:ok", "fine"], ["d:stale", "stale"]]);
      const [ok, stale] = await Promise.all([client.get("d:ok"), client.get("d:stale")]);
      assert.equal(ok, "fine");
      assert.equal(stale, undefined);
    });

    test("a compressed value asked for twice in one tick reaches both callers", async () => {
      await using client = new Client(server.server, { compression: { threshold: 100 }, protocol });
      const value = "compress me ".repeat(1000);
      await client.set("d:packed", value);
      const [first, second, other] = await Promise.all([
        client.get("d:packed"),
        client.get("d:packed"),
        client.get(keys[0]),
      ]);
      assert.equal(first, value);
      assert.equal(second, value);
      assert.equal(other, keys[0]);
    });

    test("gets with options of their own, or with batchGets off, are sent one by one", async () => {
      const { connector, writes } = recording();
      await using client = new Client(server.server, { connector, batchGets: false, protocol });
      await Promise.all(keys.slice(0, 10).map((key) => client.get(key)));
      assert.equal(getRequests(writes).length, 10);
      const batching = recording();
      await using other = new Client(server.server, { connector: batching.connector, protocol });
      await Promise.all(keys.slice(0, 10).map((key) => other.get(key, { timeout: 1000 })));
      assert.equal(getRequests(batching.writes).length, 10);
    });

    test("a value read together with others is a string of its own: keeping it keeps none of the rest", async () => {
      await using client = new Client(server.server, { protocol });
      const value = "a value of 40 characters, kept for long.";
      const around = Array.from({ length: 30 }, (_, i) => `own:around:${i}`);
      await client.setMulti([
        ...around.map((key) => [key, "a".repeat(2000)] as const),
        ["own:kept", value],
      ]);
      // The kept key sits among 30 values of 2,000 bytes, all read from one reply.
      const asked = [...around.slice(0, 15), "own:kept", ...around.slice(15)];
      await client.getMulti(asked);
      collectGarbage();
      const before = process.memoryUsage().heapUsed;
      const kept: unknown[] = [];
      for (let round = 0; round < 300; round++) {
        kept.push((await client.getMulti(asked)).get("own:kept"));
      }
      collectGarbage();
      const grown = process.memoryUsage().heapUsed - before;
      assert.ok(kept.every((one) => one === value));
      // Sharing its reply's text, each kept value would hold about 60 KB: 17 MiB
      // in all. The bound leaves room for what else a collection leaves behind.
      assert.ok(grown < 6 * 2 ** 20, `300 short values hold ${(grown / 2 ** 20).toFixed(1)} MiB`);
    });

    test("hundreds of calls with random aborts: every call gets its own key's value or its abort", async () => {
      await using client = new Client(server.server, { maxConnections: 3, protocol });
      let seed = 99;
      const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
      for (let round = 0; round < 5; round++) {
        const calls = keys.map((key) => {
          const controller = new AbortController();
          const roll = random();
          if (roll < 0.3) setTimeout(() => controller.abort(new Error("aborted")), random() * 3);
          const call = roll < 0.6
            ? client.get(key, { signal: controller.signal })
            : roll < 0.8
            ? client.get(key)
            : client.getMulti([key], { signal: controller.signal }).then((hits) => hits.get(key));
          return call.then((value) => ({ key, value }), (err) => ({ key, err }));
        });
        for (const outcome of await Promise.all(calls)) {
          if ("err" in outcome) assert.match(String(outcome.err), /aborted/);
          else assert.equal(outcome.value, outcome.key);
        }
      }
      assert.deepEqual(await Promise.all(keys.map((key) => client.get(key))), keys);
    });
  });
}
