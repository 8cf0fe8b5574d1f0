/**
 * Connection pools inside a client, and ClientPool, against a real memcached.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Client, ClientPool, ConnectionError, PoolExhausted, Timeout } from "../mod.ts";
import { type Memcached, raw, startMemcached } from "./memcached.ts";
import { startRelay } from "./relay.ts";
import { suite } from "./tools.ts";

/**
 * The server's open connections and the connections it accepted so far, not
 * counting the ones this function makes to ask. The server sees a close a
 * moment after it happens, so this waits until two readings agree.
 */
async function connections(server: string): Promise<{ current: number; total: number }> {
  const read = async () => {
    const reply = await raw(server, "stats\r\n");
    const stat = (name: string) => Number(new RegExp(`STAT ${name} (\\d+)`).exec(reply)![1]);
    asked++;
    return { current: stat("curr_connections") - 1, total: stat("total_connections") - asked };
  };
  let last = await read();
  for (let attempt = 0; attempt < 20; attempt++) {
    await sleep(20);
    const now = await read();
    if (now.current === last.current) return now;
    last = now;
  }
  return last;
}
let asked = 0;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

suite("connection pools", ["memcached"], () => {
  let server: Memcached;

  before(async () => {
    server = await startMemcached();
  });
  after(async () => {
    await server?.stop();
  });

  test("one call at a time uses one connection", async () => {
    const before = await connections(server.server);
    await using client = new Client(server.server, { maxConnections: 4 });
    for (let i = 0; i < 20; i++) await client.set(`seq${i}`, i);
    assert.equal((await connections(server.server)).total - before.total, 1);
  });

  test("concurrent calls open connections on demand, up to maxConnections", async () => {
    const before = await connections(server.server);
    await using client = new Client(server.server, { maxConnections: 3 });
    const keys = Array.from({ length: 50 }, (_, i) => `conc${i}`);
    await Promise.all(keys.map((k) => client.set(k, k)));
    assert.deepEqual(await Promise.all(keys.map((k) => client.get(k))), keys);
    assert.equal((await connections(server.server)).total - before.total, 3);
  });

  test("a slow large value on one connection does not hold up small gets on another", async () => {
    for (const maxConnections of [1, 2]) {
      const relay = await startRelay(server.server);
      try {
        await using client = new Client(relay.server, { maxConnections, maxValueSize: 2 << 20 });
        await client.set("big", new Uint8Array((2 << 20) - 1024).fill(7));
        await client.set("small", "s");
        await Promise.all([client.get("small", {}), client.get("small", { timeout: 5000 })]);
        // The first connection's replies are held back until the small get is done.
        relay.set("down", { kind: "stall" }, 0);
        const order: string[] = [];
        const big = client.get("big", { timeout: 5000 }).then(() => order.push("big"));
        const small = client.get("small", { timeout: 5000 }).then(() => order.push("small"));
        if (maxConnections > 1) await small;
        else await new Promise((resolve) => setTimeout(resolve, 100));
        relay.heal();
        await Promise.all([big, small]);
        assert.deepEqual(order, maxConnections === 1 ? ["big", "small"] : ["small", "big"]);
      } finally {
        await relay.close();
      }
    }
  });

  test("a write abandoned after it was sent keeps later calls for its key on its connection", async () => {
    const before = await connections(server.server);
    await using client = new Client(server.server, { maxConnections: 2 });
    await client.get("order");
    await server.pause();
    try {
      const controller = new AbortController();
      const abandoned = client.set("order", "A", { signal: controller.signal });
      await sleep(50);
      controller.abort(new Error("gave up"));
      await assert.rejects(abandoned, /gave up/);
      const later = client.set("order", "B");
      server.resume();
      assert.equal(await later, true);
    } finally {
      server.resume();
    }
    assert.equal(await client.get("order"), "B");
    assert.equal((await connections(server.server)).total - before.total, 1);
  });

  test("connections unused for idleTimeout are closed, and reopened when needed", async () => {
    const before = await connections(server.server);
    await using client = new Client(server.server, { maxConnections: 2, idleTimeout: 50 });
    await Promise.all([client.set("idle1", 1), client.set("idle2", 2)]);
    assert.equal((await connections(server.server)).current - before.current, 2);
    await sleep(300);
    assert.equal((await connections(server.server)).current - before.current, 0);
    assert.equal(await client.get("idle2"), 2);
  });

  test("a connection the server closed is replaced without failing the next call", async () => {
    const strict = await startMemcached({ args: ["-o", "idle_timeout=1"] });
    try {
      await using client = new Client(strict.server);
      await client.set("k", "v");
      await sleep(2500);
      assert.equal(await client.get("k"), "v");
    } finally {
      await strict.stop();
    }
  });
});

suite("ClientPool", ["memcached"], () => {
  let server: Memcached;
  let template: Client;

  before(async () => {
    server = await startMemcached();
    template = new Client(server.server);
  });
  after(async () => {
    template?.close();
    await server?.stop();
  });

  test("fill adds clones of a client that talk to the same server", async () => {
    await using pool = new ClientPool<Client>();
    pool.fill(template, 2);
    assert.equal(pool.size, 2);
    await using lease = await pool.reserve();
    assert.notEqual(lease.client, template);
    await lease.client.set("pooled", "yes");
    assert.equal(await template.get("pooled"), "yes");
  });

  test("a lease returns its client when an await using block ends, also when it throws", async () => {
    await using pool = new ClientPool(template, 1);
    await assert.rejects(async () => {
      await using lease = await pool.reserve();
      assert.equal(pool.available, 0);
      await lease.client.get("x");
      throw new Error("body failed");
    }, /body failed/);
    assert.equal(pool.available, 1);
  });

  test("releasing a lease twice returns the client once", async () => {
    await using pool = new ClientPool(template, 1);
    const lease = await pool.reserve();
    lease.release();
    lease.release();
    assert.equal(pool.available, 1);
  });

  test("a non-blocking reserve on an empty pool is PoolExhausted", async () => {
    await using pool = new ClientPool(template, 1);
    await using _held = await pool.reserve();
    await assert.rejects(pool.reserve({ block: false }), PoolExhausted);
  });

  test("blocking reservations wait in FIFO order", async () => {
    await using pool = new ClientPool(template, 1);
    const first = await pool.reserve();
    const order: number[] = [];
    const waiting = [1, 2, 3].map((n) =>
      pool.reserve().then((lease) => {
        order.push(n);
        lease.release();
      })
    );
    first.release();
    await Promise.all(waiting);
    assert.deepEqual(order, [1, 2, 3]);
  });

  test("a reservation past its timeout is Timeout and an aborted one rejects with the reason", async () => {
    await using pool = new ClientPool(template, 1);
    await using _held = await pool.reserve();
    await assert.rejects(pool.reserve({ timeout: 20 }), Timeout);
    const controller = new AbortController();
    const waiting = pool.reserve({ signal: controller.signal });
    controller.abort(new Error("gave up"));
    await assert.rejects(waiting, /gave up/);
  });

  test("closing the pool rejects waiting reservations and closes every client", async () => {
    const pool = new ClientPool(template, 1);
    const lease = await pool.reserve();
    const waiting = pool.reserve();
    pool.close();
    await assert.rejects(waiting, ConnectionError);
    await assert.rejects(lease.client.get("k"), ConnectionError);
    await assert.rejects(pool.reserve(), ConnectionError);
  });

  test("under random aborts no client is ever held twice and every client comes back", async () => {
    await using pool = new ClientPool(template, 4);
    const held = new Set<Client>();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    let served = 0;
    const task = async (n: number) => {
      const controller = new AbortController();
      if (random() < 0.3) setTimeout(() => controller.abort(new Error("abort")), random() * 5);
      let lease;
      try {
        lease = await pool.reserve({ signal: controller.signal, timeout: 2000 });
      } catch (err) {
        assert.match(String(err), /abort/);
        return;
      }
      try {
        assert.ok(!held.has(lease.client), "a client was handed to two holders");
        held.add(lease.client);
        await lease.client.set(`stress${n}`, n);
        assert.equal(await lease.client.get(`stress${n}`), n);
        served++;
      } finally {
        held.delete(lease.client);
        lease.release();
      }
    };
    await Promise.all(Array.from({ length: 300 }, (_, n) => task(n)));
    assert.ok(served > 0);
    assert.equal(pool.available, 4);
  });
});
