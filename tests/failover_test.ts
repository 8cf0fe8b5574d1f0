/**
 * Failover on real processes that the tests stop and restart: dead servers,
 * ejection and return, every server down, multi-key calls across servers,
 * and replicas.
 */
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import {
  type Behaviors,
  Client,
  ConnectionError,
  NoServers,
  ServerDown,
  SomeErrors,
} from "../mod.ts";
import { type Memcached, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

suite("failover", ["memcached"], () => {
  let servers: Memcached[] = [];
  let client: Client | undefined;

  async function cluster(n: number, behaviors: Behaviors): Promise<Client> {
    servers = await Promise.all(Array.from({ length: n }, () => startMemcached()));
    client = new Client(servers.map((s) => s.server), { behaviors, timeout: 2000 });
    return client;
  }

  /** Some keys that live on `server`, as the client places them now. */
  function keysOn(c: Client, server: string, count = 5): string[] {
    const keys: string[] = [];
    for (let i = 0; keys.length < count; i++) {
      if (c.serverFor(`k${i}`) === server) keys.push(`k${i}`);
    }
    return keys;
  }

  afterEach(async () => {
    client?.close();
    await Promise.all(servers.map((s) => s.stop()));
    servers = [];
  });

  test("a dead server's keys fail with ConnectionError, then ServerDown; other keys keep working", async () => {
    const c = await cluster(3, { retry_timeout: 30 });
    const [dead, live] = [servers[1], servers[0]];
    const [deadKey] = keysOn(c, dead.server);
    const [liveKey] = keysOn(c, live.server);
    await c.set(liveKey, "alive");
    await dead.stop();
    await assert.rejects(c.get(deadKey), ConnectionError);
    const down = await c.get(deadKey).catch((e) => e);
    assert.ok(down instanceof ServerDown, String(down));
    assert.equal(down.server, dead.server);
    assert.equal(await c.get(liveKey), "alive");
  });

  test("a server back after retry_timeout is used again", async () => {
    const c = await cluster(2, { retry_timeout: 1 });
    const dead = servers[1];
    const [key] = keysOn(c, dead.server);
    await dead.stop();
    await assert.rejects(c.get(key), ConnectionError);
    await assert.rejects(c.get(key), ServerDown);
    servers[1] = await startMemcached({ port: dead.port });
    await sleep(1100);
    assert.equal(await c.set(key, "back"), true);
    assert.equal(await c.get(key), "back");
  });

  test("with auto_eject a failed server leaves the ring, its keys move, and it rejoins later", async () => {
    const behaviors = { ketama: true, auto_eject: true, failure_limit: 1, retry_timeout: 1 };
    const c = await cluster(3, behaviors);
    const dead = servers[2];
    const keys = keysOn(c, dead.server, 20);
    await dead.stop();
    await assert.rejects(c.get(keys[0]), ConnectionError);
    await using without = new Client([servers[0].server, servers[1].server], { behaviors });
    for (const key of keys) assert.equal(c.serverFor(key), without.serverFor(key));
    assert.equal(await c.set(keys[1], "moved"), true);
    assert.equal(await c.get(keys[1]), "moved");
    servers[2] = await startMemcached({ port: dead.port });
    await sleep(1100);
    for (const key of keys) assert.equal(c.serverFor(key), dead.server);
    assert.equal(await c.set(keys[1], "home"), true);
    assert.equal(await c.get(keys[1]), "home");
  });

  test("with every server down, calls fail with NoServers", async () => {
    const c = await cluster(2, { retry_timeout: 30 });
    await Promise.all(servers.map((s) => s.stop()));
    await assert.rejects(c.get("a"), ConnectionError);
    await assert.rejects(c.getMulti(["a", "b", "c", "d"]), (err) => err instanceof Error);
    for (const key of ["a", "b", "c", "d"]) await assert.rejects(c.get(key), NoServers);
  });

  test("with every server ejected, calls fail with NoServers", async () => {
    const c = await cluster(2, {
      ketama: true,
      auto_eject: true,
      failure_limit: 1,
      retry_timeout: 30,
    });
    await Promise.all(servers.map((s) => s.stop()));
    await c.getMulti(["a", "b", "c", "d", "e", "f"]).catch(() => {});
    await c.getMulti(["a", "b", "c", "d", "e", "f"]).catch(() => {});
    await assert.rejects(c.set("x", 1), NoServers);
    assert.throws(() => c.serverFor("x"), NoServers);
  });

  test("multi-key calls with one server dead keep every result from the live servers", async () => {
    const c = await cluster(3, { retry_timeout: 30 });
    const keys = Array.from({ length: 60 }, (_, i) => `m${i}`);
    assert.deepEqual(await c.setMulti(keys.map((k) => [k, k] as const)), []);
    const dead = servers[0];
    const onDead = keys.filter((k) => c.serverFor(k) === dead.server);
    const onLive = keys.filter((k) => c.serverFor(k) !== dead.server);
    await dead.stop();

    const got = await c.getMulti(keys).catch((e) => e);
    assert.ok(got instanceof SomeErrors, String(got));
    assert.deepEqual([...got.results.keys()], onLive);
    assert.deepEqual([...got.errors.keys()].sort(), [...onDead].sort());

    const set = await c.setMulti(keys.map((k) => [k, "v2"] as const)).catch((e) => e);
    assert.ok(set instanceof SomeErrors);
    assert.equal(set.results.size, onLive.length);
    assert.ok([...set.errors.values()].every((e) => e instanceof ServerDown));

    const del = await c.deleteMulti(keys).catch((e) => e);
    assert.ok(del instanceof SomeErrors);
    assert.ok([...del.results.values()].every((deleted) => deleted === true));
    assert.equal(del.errors.size, onDead.length);
  });

  test("per-server calls report the live servers and an error for the dead one", async () => {
    const c = await cluster(2, {});
    await servers[1].stop();
    const err = await c.version().catch((e) => e);
    assert.ok(err instanceof SomeErrors);
    assert.deepEqual([...err.results.keys()], [servers[0].server]);
    assert.ok(err.errors.get(servers[1].server) instanceof ConnectionError);
  });

  test("num_replicas writes to the next servers and reads from them when the primary is down", async () => {
    const c = await cluster(3, { num_replicas: 1, retry_timeout: 30 });
    const primary = servers[0];
    const [key] = keysOn(c, primary.server);
    await c.set(key, "copied");
    for (const [i, s] of servers.entries()) {
      await using direct = new Client(s.server);
      assert.equal(await direct.get(key), i <= 1 ? "copied" : undefined, s.server);
    }
    await primary.stop();
    assert.equal(await c.get(key), "copied");
    assert.equal(await c.get(key), "copied");
  });
});
