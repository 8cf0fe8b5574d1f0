/**
 * Cache-aside: getOrSet has one caller compute a missing key across
 * processes and clients, invalidate serves the stale value while one caller
 * computes the next, a failing loader lets the next caller compute; over
 * meta (the server decides) and over text (a lock key decides).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { Client, type CommandEvent, Timeout } from "../mod.ts";
import { type Memcached, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

const here = dirname(fileURLToPath(import.meta.url));
const compiled = !existsSync(join(here, "fixtures/get_or_set.ts"));
const fixture = join(here, compiled ? "fixtures/get_or_set.js" : "fixtures/get_or_set.ts");
const g = globalThis as { Deno?: unknown };

/** Runs the fixture in a process of its own: the values its 20 calls returned. */
function processCalls(server: string, key: string, protocol: string): Promise<string[]> {
  const args = [...(g.Deno ? ["run", "-A"] : []), fixture, server, key, protocol];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

suite("getOrSet", ["memcached"], () => {
  let server: Memcached;
  let n = 0;
  const key = (name: string) => `aside:${name}:${++n}`;

  before(async () => {
    server = await startMemcached();
  });
  after(() => server.stop());

  for (const protocol of ["meta", "text"] as const) {
    describe(`over ${protocol}`, () => {
      const clients: Client[] = [];
      const client = (i = 0) => clients[i];
      before(() => {
        for (let i = 0; i < 3; i++) clients.push(new Client(server.server, { protocol }));
      });
      after(() => {
        for (const c of clients) c.close();
      });

      test("3 processes × 20 concurrent calls on a missing key run the loader once", async () => {
        const k = key("herd");
        const results = await Promise.all(
          [1, 2, 3].map(() => processCalls(server.server, k, protocol)),
        );
        assert.equal(await client().get(`${k}:loads`), 1);
        const values = new Set(results.flat());
        assert.equal(results.flat().length, 60);
        assert.equal(values.size, 1, [...values].join(", "));
      });

      test("a hit is returned without running the loader", async () => {
        const k = key("hit");
        await client().set(k, "cached");
        assert.equal(await client().getOrSet(k, () => assert.fail("loader ran")), "cached");
      });

      test("concurrent callers in one process share one loader call", async () => {
        const k = key("shared");
        let runs = 0;
        const loader = async () => {
          runs++;
          await delay(50);
          return { v: 1 };
        };
        const values = await Promise.all(
          Array.from({ length: 10 }, () => client().getOrSet(k, loader)),
        );
        assert.equal(runs, 1);
        assert.ok(values.every((v) => v === values[0]));
      });

      test("a loader that throws lets the next caller compute", async () => {
        const k = key("throws");
        const order: string[] = [];
        const first = client(0).getOrSet(k, async () => {
          await delay(100);
          order.push("first failed");
          throw new Error("database down");
        });
        await delay(20);
        const second = client(1).getOrSet(k, () => {
          order.push("second computed");
          return "fresh";
        });
        await assert.rejects(first, /database down/);
        assert.equal(await second, "fresh");
        assert.deepEqual(order, ["first failed", "second computed"]);
        assert.equal(await client(2).get(k), "fresh");
      });

      test("a caller waiting past its timeout is Timeout", async () => {
        const k = key("slow");
        const slow = client(0).getOrSet(k, async () => {
          await delay(400);
          return "late";
        });
        await delay(20);
        await assert.rejects(client(1).getOrSet(k, () => "mine", { timeout: 100 }), Timeout);
        assert.equal(await slow, "late");
      });
    });
  }

  describe("invalidate and early recache, over meta", () => {
    let a: Client, b: Client, c: Client;
    before(() => {
      [a, b, c] = [0, 1, 2].map(() => new Client(server.server, { protocol: "meta" }));
    });
    after(() => {
      for (const x of [a, b, c]) x.close();
    });

    test("after invalidate, one caller recomputes while the others get the stale value at once", async () => {
      const k = key("stale");
      await a.getOrSet(k, () => "v1", { ttl: 60 });
      assert.equal(await a.invalidate(k), true);
      const order: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((resolve) => release = resolve);
      const recompute = a.getOrSet(k, async () => {
        await gate;
        order.push("recomputed");
        return "v2";
      }).then((v) => order.push(`a got ${v}`));
      await delay(20);
      const stale = await Promise.all([
        b.getOrSet(k, () => assert.fail("b computed")),
        c.getOrSet(k, () => assert.fail("c computed")),
      ]);
      order.push(`others got ${stale.join(", ")}`);
      release();
      await recompute;
      assert.deepEqual(order, ["others got v1, v1", "recomputed", "a got v2"]);
      assert.equal(await b.get(k), "v2");
    });

    test("invalidate of a missing key is false; a plain delete stays a delete", async () => {
      assert.equal(await a.invalidate(key("none")), false);
      const k = key("deleted");
      await a.set(k, "v");
      await a.delete(k);
      assert.equal(await a.getOrSet(k, () => "recomputed"), "recomputed");
    });

    test("recacheBefore serves the value and computes the next one behind it", async () => {
      const k = key("early");
      await a.set(k, "old", { ttl: 10 });
      let runs = 0;
      const loader = async () => {
        runs++;
        await delay(100);
        return "new";
      };
      const options = { ttl: 100, recacheBefore: 50 };
      assert.equal(await a.getOrSet(k, loader, options), "old");
      assert.equal(await b.getOrSet(k, loader, options), "old");
      await delay(200);
      assert.equal(runs, 1);
      assert.equal(await c.getOrSet(k, loader, options), "new");
      assert.equal(runs, 1);
    });
  });

  test("a recompute behind a served value that fails reaches onCommand", async () => {
    const events: CommandEvent[] = [];
    await using client = new Client(server.server, {
      protocol: "meta",
      onCommand: (e) => events.push(e),
    });
    const k = key("behindfails");
    await client.set(k, "old", { ttl: 10 });
    const failing = () => Promise.reject(new Error("database down"));
    assert.equal(await client.getOrSet(k, failing, { ttl: 100, recacheBefore: 50 }), "old");
    for (let i = 0; i < 20 && !events.some((e) => e.error); i++) await delay(10);
    const failed = events.find((e) => e.operation === "getOrSet" && e.error);
    assert.match(String(failed?.error), /database down/);
    assert.equal(await client.get(k), "old");
  });

  describe("invalidate over text", () => {
    test("invalidate is a delete: the next caller recomputes", async () => {
      await using text = new Client(server.server, { protocol: "text" });
      const k = key("textstale");
      await text.set(k, "v1");
      assert.equal(await text.invalidate(k), true);
      assert.equal(await text.getOrSet(k, () => "v2"), "v2");
    });
  });
});
