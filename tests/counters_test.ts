/**
 * Counters in one call: incr/decr create a missing counter with `initial`,
 * on every protocol, and their results have the type the call asks for.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client, InvalidArguments, NotFound, UnreadableValue } from "../mod.ts";
import { type Memcached, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

suite("counters", ["memcached"], () => {
  let server: Memcached;
  let n = 0;
  const key = (name: string) => `counter:${name}:${++n}`;

  before(async () => {
    server = await startMemcached();
  });
  after(() => server.stop());

  for (const protocol of ["text", "meta", "binary"] as const) {
    describe(protocol, () => {
      let client: Client;
      before(() => {
        client = new Client(server.server, { protocol });
      });
      after(() => client.close());

      test("incr with initial creates a missing counter and returns initial", async () => {
        const k = key("created");
        assert.equal(await client.incr(k, 5, { initial: 10 }), 10);
        assert.equal(await client.incr(k, 5, { initial: 10 }), 15);
        assert.equal(await client.get(k), 15, "get reads it as a number");
      });

      test("decr with initial creates a missing counter too", async () => {
        const k = key("down");
        assert.equal(await client.decr(k, 1, { initial: 3 }), 3);
        assert.equal(await client.decr(k, 1, { initial: 3 }), 2);
      });

      test("without initial a missing counter is still NotFound", async () => {
        await assert.rejects(client.incr(key("missing")), NotFound);
      });

      test("a counter initial creates lives ttl seconds; an existing one keeps its own", async () => {
        const k = key("ttl");
        await client.incr(k, 1, { initial: 0, ttl: 100 });
        await client.incr(k, 1, { initial: 0, ttl: 5000 });
        await using meta = new Client(server.server, { protocol: "meta" });
        const { ttl } = (await meta.getWithMeta(k))!;
        assert.ok(ttl! > 90 && ttl! <= 100, String(ttl));
      });

      test("concurrent callers on a missing counter create it once and lose no increment", async () => {
        const k = key("race");
        const results = await Promise.all(
          Array.from({ length: 20 }, () => client.incr(k, 1, { initial: 0 })),
        );
        assert.deepEqual(
          results.toSorted((a, b) => a - b),
          Array.from({ length: 20 }, (_, i) => i),
        );
        assert.equal(await client.get(k), 19);
      });
    });
  }

  describe("types", () => {
    let client: Client;
    before(() => {
      client = new Client(server.server);
    });
    after(() => client.close());

    test("a number delta gives a number; a bigint delta or { bigint: true } a bigint", async () => {
      const k = key("typed");
      await client.set(k, 1);
      const small: number = await client.incr(k);
      const big: bigint = await client.incr(k, 1n);
      const asked: bigint = await client.decr(k, 1, { bigint: true });
      assert.deepEqual([small, big, asked], [2, 3n, 2n]);
    });

    test("a counter past 2^53 read as a number is UnreadableValue, stored all the same", async () => {
      const k = key("past");
      await client.set(k, 2n ** 53n);
      await assert.rejects(
        client.incr(k, 1),
        (err) => err instanceof UnreadableValue && /9007199254740993/.test(err.message),
      );
      assert.equal(await client.incr(k, 0n), 2n ** 53n + 1n);
    });

    test("ttl without initial, or an initial out of range, is InvalidArguments", async () => {
      await assert.rejects(client.incr(key("bad"), 1, { ttl: 5 }), InvalidArguments);
      await assert.rejects(client.incr(key("bad"), 1, { initial: -1 }), InvalidArguments);
      await assert.rejects(client.incr(key("bad"), 1, { initial: 2n ** 64n }), InvalidArguments);
    });
  });
});
