/** The onCommand hook: every request reported once, with its outcome. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Client, type CommandEvent, NotFound } from "../mod.ts";
import { type Memcached, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

suite("onCommand", ["memcached"], () => {
  let server: Memcached;

  before(async () => {
    server = await startMemcached();
  });
  after(async () => {
    await server?.stop();
  });

  test("reports each request with its operation, key, server and duration", async () => {
    const events: CommandEvent[] = [];
    await using client = new Client(server.server, { onCommand: (e) => events.push(e) });
    await client.set("seen", 1);
    await client.get("seen", { timeout: 1000 });
    await client.version();
    assert.deepEqual(
      events.map(({ operation, key, server, error }) => ({ operation, key, server, error })),
      [
        { operation: "set", key: "seen", server: server.server, error: undefined },
        { operation: "get", key: "seen", server: server.server, error: undefined },
        { operation: "version", key: undefined, server: server.server, error: undefined },
      ],
    );
    assert.ok(events.every((e) => e.duration >= 0));
  });

  test("reports a failed request with its error", async () => {
    const events: CommandEvent[] = [];
    await using client = new Client(server.server, { onCommand: (e) => events.push(e) });
    await assert.rejects(client.incr("no-such-counter"), NotFound);
    assert.equal(events.length, 1);
    assert.ok(events[0].error instanceof NotFound);
  });

  test("says whether each read found a value", async () => {
    const events: CommandEvent[] = [];
    await using client = new Client(server.server, { onCommand: (e) => events.push(e) });
    await client.set("found", 1);
    await client.get("found");
    await client.get("not-there");
    await client.getMulti(["found", "not-there"]);
    await client.getMulti(["not-there"]);
    assert.deepEqual(
      events.map(({ operation, hit }) => ({ operation, hit })),
      [
        { operation: "set", hit: undefined },
        { operation: "get", hit: true },
        { operation: "get", hit: false },
        { operation: "getMulti", hit: true },
        { operation: "getMulti", hit: false },
      ],
    );
  });

  test("counts each read's hits and misses, so a hit ratio is a sum", async () => {
    const events: CommandEvent[] = [];
    await using client = new Client(server.server, { onCommand: (e) => events.push(e) });
    await client.setMulti({ "ratio:a": 1, "ratio:b": 2 });
    events.length = 0;
    await client.get("ratio:a");
    await client.getMulti(["ratio:a", "ratio:b", "ratio:none"]);
    // Gets of one tick go out as one request: its event counts every key.
    await Promise.all([client.get("ratio:b"), client.get("ratio:none"), client.get("ratio:x")]);
    const reads = events.filter((e) => e.hits !== undefined);
    const hits = reads.reduce((n, e) => n + e.hits!, 0);
    const misses = reads.reduce((n, e) => n + e.misses!, 0);
    assert.deepEqual([hits, misses], [4, 3]);
    assert.deepEqual(events.filter((e) => e.operation === "getMulti").map((e) => e.misses), [1]);
  });

  test("an observer that throws does not change the call's outcome", async () => {
    await using client = new Client(server.server, {
      onCommand: () => {
        throw new Error("observer broke");
      },
    });
    const logged: unknown[] = [];
    const log = console.error;
    console.error = (...args: unknown[]) => void logged.push(args);
    try {
      assert.equal(await client.set("fine", 1), true);
    } finally {
      console.error = log;
    }
    assert.match(String((logged[0] as unknown[])[1]), /observer broke/);
  });
});
