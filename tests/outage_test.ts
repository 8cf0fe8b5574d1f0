/**
 * A server's bad day, on real processes: a blackholed server (connects
 * hang), a hung one (SIGSTOP), replies garbled or out of step. The
 * connection decides what counts against a server, a failed server's keys
 * fail fast or move, and it comes back once a probe finds it answering.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  type Behaviors,
  Client,
  type ClientOptions,
  NoServers,
  ProtocolError,
  ServerDown,
  type ServerHealth,
  Timeout,
} from "../mod.ts";
import { type Blackhole, startBlackhole } from "./blackhole.ts";
import { type Memcached, startMemcached } from "./memcached.ts";
import { type Relay, startRelay } from "./relay.ts";
import { suite } from "./tools.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Some keys that `client` places on `server` now. */
function keysOn(client: Client, server: string, count = 5): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count && i < 10_000; i++) {
    if (client.serverFor(`k${i}`) === server) keys.push(`k${i}`);
  }
  return keys;
}

/** Polls `client.health()` for `server` until `done` says so, for at most `ms`. */
async function healthOf(
  client: Client,
  server: string,
  done: (health: ServerHealth) => boolean,
  ms = 3000,
): Promise<ServerHealth> {
  const health = () => client.health().find((h) => h.server === server)!;
  for (let waited = 0; waited < ms && !done(health()); waited += 20) await sleep(20);
  return health();
}

/** How long `call` took to settle, and its error. */
async function timed(call: Promise<unknown>): Promise<{ ms: number; err: unknown }> {
  const started = Date.now();
  const err = await call.then(() => undefined, (e) => e);
  return { ms: Date.now() - started, err };
}

suite("a blackholed server", ["memcached", "python3"], () => {
  let live: Memcached[] = [];
  let hole: Blackhole;

  before(async () => {
    live = await Promise.all([startMemcached(), startMemcached()]);
    hole = await startBlackhole();
  });
  after(async () => {
    await Promise.all(live.map((s) => s.stop()));
    await hole?.close();
  });

  const client = (behaviors: Behaviors, options: ClientOptions = {}) =>
    new Client([live[0].server, live[1].server, hole.server], {
      connectTimeout: 200,
      timeout: 1000,
      ...options,
      behaviors: { ketama: true, ...behaviors },
    });

  test("a connect that times out counts against it: its keys then fail fast with ServerDown", async () => {
    await using c = client({ retry_timeout: 30 });
    const [key] = keysOn(c, hole.server);
    const first = await timed(c.get(key));
    assert.ok(first.err instanceof Timeout, String(first.err));
    const health = c.health()[2];
    assert.equal(health.state, "down");
    assert.equal(health.failures, 1);
    assert.ok(health.lastError instanceof Timeout);
    assert.ok(health.downUntil! > Date.now());
    const second = await timed(c.get(key));
    assert.ok(second.err instanceof ServerDown, String(second.err));
    assert.ok(second.ms < 200, `ServerDown took ${second.ms} ms`);
    const [other] = keysOn(c, live[0].server);
    await c.set(other, "served");
    assert.equal(await c.get(other), "served");
  });

  test("with auto_eject it leaves the ring after failure_limit failures; no more callers wait", async () => {
    await using c = client({ auto_eject: true, failure_limit: 2, retry_timeout: 1 });
    const keys = keysOn(c, hole.server, 10);
    let waited = 0;
    for (let round = 0; round < 150 && c.serverFor(keys[0]) === hole.server; round++) {
      const { err } = await timed(c.set(keys[0], "v"));
      if (err instanceof Timeout) waited++;
      else assert.ok(err instanceof ServerDown, String(err));
      await sleep(20);
    }
    assert.ok(waited <= 2, `${waited} calls waited for the connect timeout`);
    assert.equal(c.health()[2].state, "ejected");
    await using without = new Client([live[0].server, live[1].server], {
      behaviors: { ketama: true },
    });
    for (const key of keys) assert.equal(c.serverFor(key), without.serverFor(key));
    assert.equal(await c.set(keys[1], "moved"), true);
    assert.equal(await c.get(keys[1]), "moved");
  });

  test("an ejected server that still does not answer stays out after its dead_timeout", async () => {
    await using c = client({ auto_eject: true, failure_limit: 1, retry_timeout: 1 });
    const [key] = keysOn(c, hole.server);
    await assert.rejects(c.get(key), Timeout);
    assert.equal(c.health()[2].state, "ejected");
    // The probe at 1 s times out after 200 ms: still ejected, and counted.
    const health = await healthOf(c, hole.server, (h) => h.failures >= 2);
    assert.equal(health.state, "ejected");
    assert.notEqual(c.serverFor(key), hole.server);
  });

  test("a call's own timeout bounds it, connecting and finding out the protocol included", async () => {
    for (const protocol of ["auto", "text"] as const) {
      await using c = new Client(hole.server, { connectTimeout: 2000, protocol });
      const { ms, err } = await timed(c.get("k", { timeout: 100 }));
      assert.ok(err instanceof Timeout, `${protocol}: ${err}`);
      assert.ok(ms < 1000, `${protocol}: rejected after ${ms} ms`);
    }
  });
});

suite("a hung server", ["memcached"], () => {
  let servers: Memcached[] = [];

  before(async () => {
    servers = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
  });
  after(async () => {
    for (const s of servers) s.resume();
    await Promise.all(servers.map((s) => s.stop()));
  });

  test("its silent connection is reset and counted whatever the callers' deadlines; it returns once resumed", async () => {
    await using c = new Client(servers.map((s) => s.server), {
      timeout: 300,
      behaviors: { ketama: true, retry_timeout: 1 },
    });
    const hung = servers[2];
    const [hungKey] = keysOn(c, hung.server);
    const [liveKey] = keysOn(c, servers[0].server);
    await c.set(hungKey, "back");
    await c.set(liveKey, "alive");
    await hung.pause();
    try {
      await assert.rejects(c.get(hungKey, { timeout: 50 }), Timeout);
      assert.equal(c.health()[2].state, "up");
      const down = await healthOf(c, hung.server, (h) => h.state === "down", 1000);
      assert.equal(down.state, "down");
      assert.ok(down.lastError instanceof Timeout);
      assert.match(down.lastError.message, /no reply from the server for 300 ms/);
      const fast = await timed(c.get(hungKey));
      assert.ok(fast.err instanceof ServerDown, String(fast.err));
      assert.equal(await c.get(liveKey), "alive");
    } finally {
      hung.resume();
    }
    const up = await healthOf(c, hung.server, (h) => h.state === "up");
    assert.equal(up.state, "up");
    assert.equal(up.failures, 0);
    assert.equal(await c.get(hungKey), "back");
  });

  test("a short deadline of a call's own counts nothing against a healthy server", async () => {
    const relay = await startRelay(servers[0].server);
    try {
      await using c = new Client(relay.server, { timeout: 2000 });
      await c.set("slow", "value");
      relay.set("down", { kind: "delay", ms: 100 });
      await assert.rejects(c.get("slow", { timeout: 20 }), Timeout);
      assert.equal(await c.get("slow"), "value");
      assert.deepEqual(
        c.health().map(({ state, failures }) => ({ state, failures })),
        [{ state: "up", failures: 0 }],
      );
    } finally {
      await relay.close();
    }
  });
});

suite("replies out of step", ["memcached"], () => {
  let server: Memcached;
  let relay: Relay;
  const KEYS = Array.from({ length: 50 }, (_, i) => `step:${i}`);

  before(async () => {
    server = await startMemcached();
    relay = await startRelay(server.server);
    await using seeder = new Client(server.server);
    await seeder.setMulti(KEYS.map((key) => [key, key] as const));
  });
  after(async () => {
    await relay?.close();
    await server?.stop();
  });

  for (const [protocol, text] of [["text", "STORED\r\n"], ["meta", "EN\r\n"]] as const) {
    test(`one stray ${text.trim()} line over ${protocol} costs one call; the next succeeds`, async () => {
      await using c = new Client(relay.server, { protocol });
      assert.equal(await c.get(KEYS[0]), KEYS[0]);
      relay.set("down", { kind: "inject", text });
      await assert.rejects(c.get(KEYS[1]), ProtocolError);
      const outcomes = await Promise.allSettled(KEYS.map((key) => c.get(key)));
      assert.deepEqual(outcomes.map((o) => o.status === "fulfilled" && o.value), KEYS);
      assert.deepEqual(
        c.health().map(({ state, failures }) => ({ state, failures })),
        [{ state: "up", failures: 0 }],
      );
      assert.ok(!outcomes.some((o) => o.status === "rejected" && o.reason instanceof NoServers));
    });
  }

  test("an unsolicited END resets the connection at once: no later get reads another key's reply", async () => {
    await using c = new Client(relay.server, { protocol: "text", batchGets: false });
    assert.equal(await c.get(KEYS[0]), KEYS[0]);
    relay.set("down", { kind: "inject", text: "END\r\n" });
    const hit = await Promise.allSettled(KEYS.map((key) => c.get(key)));
    // The stray END answers the first get on the connection it came on (a
    // miss no client can tell; with two connections, that need not be the
    // first get asked); the next reply names a key not asked for, and the
    // connection goes.
    let misses = 0;
    hit.forEach((outcome, i) => {
      if (outcome.status === "rejected") return;
      if (outcome.value === undefined && ++misses === 1) return;
      assert.equal(outcome.value, KEYS[i], `get ${KEYS[i]}`);
    });
    for (const key of KEYS) assert.equal(await c.get(key), key);
    const again = await Promise.all(KEYS.map((key) => c.get(key)));
    assert.deepEqual(again, KEYS);
    assert.equal(c.health()[0].failures, 0);
  });
});

suite("retry", ["memcached", "python3"], () => {
  let server: Memcached;
  let relay: Relay;

  before(async () => {
    server = await startMemcached();
    relay = await startRelay(server.server);
  });
  after(async () => {
    await relay?.close();
    await server?.stop();
  });

  test("a get that met a garbled reply is sent again and succeeds", async () => {
    const errors: unknown[] = [];
    await using c = new Client(relay.server, {
      protocol: "text",
      retry: true,
      onCommand: (e) => e.error && errors.push(e.error),
    });
    await c.set("again", "found");
    relay.set("down", { kind: "inject", text: "BOGUS\r\n" });
    assert.equal(await c.get("again"), "found");
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof ProtocolError);
  });

  test("incr is never sent again: the counter moves once", async () => {
    await using c = new Client(relay.server, { protocol: "text", retry: { attempts: 5 } });
    await c.set("counter", 0);
    relay.set("down", { kind: "inject", text: "BOGUS\r\n" });
    await assert.rejects(c.incr("counter"), ProtocolError);
    assert.equal(await c.get("counter"), 1);
  });

  test("attempts stop at the call's timeout", async () => {
    const hole = await startBlackhole();
    try {
      await using c = new Client(hole.server, {
        connectTimeout: 100,
        protocol: "text",
        retry: { attempts: 50, backoff: 10 },
        behaviors: { retry_timeout: 0 },
      });
      const { ms, err } = await timed(c.get("k", { timeout: 400 }));
      assert.ok(err instanceof Timeout, String(err));
      assert.ok(ms < 1000, `gave up after ${ms} ms`);
    } finally {
      await hole.close();
    }
  });
});
