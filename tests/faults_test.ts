/**
 * Faults on a real connection: a relay between the client and memcached
 * delays, stalls, truncates, corrupts, resets or drops traffic. Each call
 * rejects within its timeout with the documented class, nothing stays
 * pending, nothing is left unhandled, and once the fault heals every value
 * comes back to the caller that asked for it.
 */
import assert from "node:assert/strict";
import { unlinkSync } from "node:fs";
import process from "node:process";
import { after, before, test } from "node:test";
import {
  Client,
  ConnectionError,
  type Error as MemcachedError,
  ProtocolError,
  ReadError,
  Timeout,
  UnixSocketError,
  WriteError,
} from "../mod.ts";
import { type Memcached, startMemcached } from "./memcached.ts";
import { type Direction, type Fault, type Relay, startRelay } from "./relay.ts";
import { suite } from "./tools.ts";

const TIMEOUT = 300;
const KEYS = Array.from({ length: 50 }, (_, i) => `fault:${i}`);
const unhandled: unknown[] = [];
process.on("unhandledRejection", (reason) => void unhandled.push(reason));

/** The call's error, failing the test if it stays pending past its deadline. */
async function settled(call: Promise<unknown>): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("the call stayed pending")), TIMEOUT * 4);
  });
  try {
    return await Promise.race([call.then(() => undefined, (err) => err), pending]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every key comes back with its own value, from concurrent calls. */
async function allCorrect(client: Client): Promise<void> {
  const values = await Promise.all(KEYS.map((key) => client.get(key)));
  assert.deepEqual(values, KEYS);
  assert.deepEqual([...(await client.getMulti(KEYS)).values()], KEYS);
}

const OPERATIONS: [string, (client: Client) => Promise<unknown>][] = [
  ["get", (c) => c.get(KEYS[0])],
  ["gets", (c) => c.gets(KEYS[1])],
  ["set", (c) => c.set(KEYS[2], KEYS[2])],
  ["getMulti", (c) => c.getMulti(KEYS.slice(0, 10))],
  ["incr", (c) => c.incr("fault:counter")],
  ["delete", (c) => c.delete("fault:gone")],
];

const CONNECTION = [ConnectionError, ReadError, WriteError];
const FAULTS: [string, Direction, Fault, (typeof MemcachedError)[] | "succeeds"][] = [
  ["replies delayed less than the timeout", "down", { kind: "delay", ms: 50 }, "succeeds"],
  ["requests delayed less than the timeout", "up", { kind: "delay", ms: 50 }, "succeeds"],
  ["replies stalled", "down", { kind: "stall" }, [Timeout]],
  ["requests stalled", "up", { kind: "stall" }, [Timeout]],
  ["replies corrupted", "down", { kind: "corrupt" }, [ProtocolError]],
  ["replies truncated", "down", { kind: "truncate", bytes: 1 }, CONNECTION],
  ["requests truncated", "up", { kind: "truncate", bytes: 1 }, CONNECTION],
  ["the connection reset on a reply", "down", { kind: "reset" }, CONNECTION],
  ["the connection reset on a request", "up", { kind: "reset" }, CONNECTION],
  ["the connection dropped on a reply", "down", { kind: "drop" }, CONNECTION],
  ["the connection dropped on a request", "up", { kind: "drop" }, CONNECTION],
];

suite("faults on the connection", ["memcached"], () => {
  let server: Memcached;
  let relay: Relay;
  let seeder: Client;

  before(async () => {
    server = await startMemcached();
    relay = await startRelay(server.server);
    seeder = new Client(server.server);
    await seeder.setMulti(KEYS.map((key) => [key, key] as const));
    await seeder.set("fault:counter", 0);
  });
  after(async () => {
    seeder?.close();
    await relay?.close();
    await server?.stop();
  });

  for (const [name, direction, fault, expected] of FAULTS) {
    for (const [operation, call] of OPERATIONS) {
      test(`${operation} with ${name}`, async () => {
        await using client = new Client(relay.server, {
          timeout: TIMEOUT,
          behaviors: { retry_timeout: 0 },
        });
        await allCorrect(client);
        relay.set(direction, fault);
        try {
          const err = await settled(call(client));
          if (expected === "succeeds") assert.equal(err, undefined);
          else assert.ok(expected.some((Class) => err instanceof Class), `got ${err}`);
        } finally {
          relay.heal();
        }
        await allCorrect(client);
      });
    }
  }

  test("a large value cut off half-way is not stored, and the connection recovers", async () => {
    await using client = new Client(relay.server, {
      timeout: TIMEOUT * 3,
      behaviors: { retry_timeout: 0 },
    });
    await client.set("fault:big", "old");
    relay.set("up", { kind: "truncate", bytes: 64 * 1024 });
    try {
      const err = await settled(client.set("fault:big", new Uint8Array(1 << 20)));
      assert.ok(CONNECTION.some((Class) => err instanceof Class), `got ${err}`);
    } finally {
      relay.heal();
    }
    assert.equal(await client.get("fault:big"), "old");
    await allCorrect(client);
  });

  test("nothing was left as an unhandled rejection", () => {
    assert.deepEqual(unhandled, []);
  });
});

suite("replies out of the order asked", ["memcached"], () => {
  let server: Memcached;
  let relay: Relay;

  before(async () => {
    server = await startMemcached();
    relay = await startRelay(server.server);
    relay.set("up", { kind: "reverseGets" });
    await using seeder = new Client(server.server);
    await seeder.setMulti(KEYS.map((key) => [`app:${key}`, key] as const));
  });
  after(async () => {
    await relay?.close();
    await server?.stop();
  });

  test("getMulti finds each reply's key by name, under the client's prefix", async () => {
    await using client = new Client(relay.server, { keyPrefix: "app:", protocol: "text" });
    const hits = await client.getMulti([...KEYS, "fault:missing"]);
    assert.deepEqual([...hits], KEYS.map((key) => [key, key]));
  });

  test("batched gets each receive their own key's value, a key asked twice included", async () => {
    await using client = new Client(relay.server, { keyPrefix: "app:", protocol: "text" });
    const asked = [...KEYS, KEYS[3], "fault:missing", KEYS[40]];
    const values = await Promise.all(asked.map((key) => client.get(key)));
    assert.deepEqual(values, asked.map((key) => key === "fault:missing" ? undefined : key));
  });
});

suite("faults on the server", ["memcached"], () => {
  test("a server killed mid-pipeline fails every waiting call, and serves again once restarted", async () => {
    const server = await startMemcached();
    try {
      await using client = new Client(server.server, { behaviors: { retry_timeout: 0 } });
      await client.setMulti(KEYS.map((key) => [key, key] as const));
      const calls = Array.from({ length: 300 }, (_, i) => client.get(KEYS[i % KEYS.length]));
      const stopping = server.stop();
      const outcomes = await Promise.allSettled(calls);
      await stopping;
      outcomes.forEach((outcome, i) => {
        if (outcome.status === "fulfilled") assert.equal(outcome.value, KEYS[i % KEYS.length]);
        else assert.ok(CONNECTION.some((Class) => outcome.reason instanceof Class));
      });
      const restarted = await startMemcached({ port: server.port });
      try {
        await client.setMulti(KEYS.map((key) => [key, key] as const));
        await allCorrect(client);
      } finally {
        await restarted.stop();
      }
    } finally {
      await server.stop();
    }
  });

  test("with its socket file removed, a Unix server keeps its connections and refuses new ones", async () => {
    const server = await startMemcached({ unix: true });
    try {
      await using client = new Client(server.server);
      await client.set("unix", "still here");
      unlinkSync(server.server);
      assert.equal(await client.get("unix"), "still here");
      await using fresh = new Client(server.server);
      await assert.rejects(fresh.get("unix"), UnixSocketError);
    } finally {
      await server.stop();
    }
  });
});
