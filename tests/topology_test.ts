/**
 * The server list follows the cluster: setServers places keys as pylibmc
 * does with the new list and retires the old connections once their calls
 * are done, and auto discovery picks up a changed node list from a local
 * endpoint that speaks `config get cluster` as AWS ElastiCache documents it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:net";
import { after, before, describe, test } from "node:test";
import { Client, type CommandEvent } from "../mod.ts";
import { parseClusterConfig } from "../protocol/discovery.ts";
import { type Memcached, raw, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Has pylibmc write every key (its value is the key) to `servers` with ketama. */
function pylibmcWrites(servers: string[], keys: string[]): Promise<void> {
  const script = `
import json, sys, pylibmc
servers, keys = json.loads(sys.stdin.read())
mc = pylibmc.Client(servers, behaviors={"ketama": True})
assert not mc.set_multi({k: k for k in keys})
`;
  return new Promise((resolve, reject) => {
    const child = execFile(
      "/usr/bin/python3",
      ["-c", script],
      (err, _out, stderr) => err ? reject(new Error(stderr || err.message)) : resolve(),
    );
    child.stdin!.end(JSON.stringify([servers, keys]));
  });
}

/** How many connections a memcached has open, the one asking included. */
async function connections(server: string): Promise<number> {
  return Number(/curr_connections (\d+)/.exec(await raw(server, "stats\r\n"))![1]);
}

/** A configuration endpoint on loopback that answers `config get cluster` with `nodes`. */
function endpoint(nodes: () => { version: number; servers: string[] } | "ERROR"): Promise<Server> {
  const server = createServer((socket) => {
    socket.on("data", (chunk) => {
      if (!String(chunk).startsWith("config get cluster")) return socket.end("ERROR\r\n");
      const now = nodes();
      if (now === "ERROR") return socket.write("ERROR\r\n");
      const list = now.servers.map((s) => {
        const [host, port] = s.split(":");
        return `node-${port}.example|${host}|${port}`;
      });
      const data = `${now.version}\n${list.join(" ")}\n`;
      socket.write(`CONFIG cluster 0 ${data.length}\r\n${data}\r\nEND\r\n`);
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

suite("the server list follows the cluster", ["memcached", "pylibmc"], () => {
  let servers: Memcached[];
  let names: string[];

  before(async () => {
    servers = await Promise.all([0, 1, 2, 3].map(() => startMemcached()));
    names = servers.map((s) => s.server);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  test("setServers places keys as pylibmc does with the new list", async () => {
    await using client = new Client(names.slice(0, 3), { behaviors: { ketama: true } });
    const keys = Array.from({ length: 2000 }, (_, i) => `moved:${i}`);
    await client.setMulti(Object.fromEntries(keys.map((k) => [k, "old"])));
    const next = [names[0], names[1], names[3]];
    client.setServers(next);
    assert.deepEqual(client.servers, next);
    await pylibmcWrites(next, keys);
    const found = await client.getMulti(keys);
    assert.equal([...found.values()].filter((v) => v !== "old").length, keys.length);
    for (const server of next) {
      await using direct = new Client(server);
      // pylibmc's copy of a key (its value is the key) is where serverFor says.
      for (const [key, value] of await direct.getMulti(keys)) {
        if (value === key) assert.equal(client.serverFor(key), server, key);
      }
    }
  });

  test("calls in flight finish on the old connections, which then close", async () => {
    await using client = new Client([names[2]]);
    await client.set("inflight", "v");
    const before = await connections(names[2]);
    const reads = Array.from({ length: 200 }, () => client.get("inflight"));
    client.setServers([names[3]]);
    assert.ok((await Promise.all(reads)).every((v) => v === "v"));
    for (let i = 0; i < 50 && await connections(names[2]) >= before; i++) await delay(50);
    assert.ok(await connections(names[2]) < before, "the old connection closed");
    assert.equal(await client.get("inflight"), undefined, "now read from the new server");
  });

  test("servers in both lists keep their connections", async () => {
    await using client = new Client([names[0], names[1]]);
    await client.setMulti({ a: 1, b: 2, c: 3, d: 4, e: 5 });
    const opened = async () =>
      Number(/total_connections (\d+)/.exec(await raw(names[0], "stats\r\n"))![1]);
    const before = await opened();
    client.setServers([names[0], names[2]]);
    for (let i = 0; i < 20; i++) await client.get(`kept:${i}`);
    await delay(300);
    for (let i = 0; i < 20; i++) await client.get(`kept:${i}`);
    // Only the stats connections of this test were opened on the kept server.
    assert.equal(await opened(), before + 1);
  });

  test("a bad list throws and changes nothing", async () => {
    await using client = new Client([names[0]]);
    assert.throws(() => client.setServers([]));
    assert.throws(() => client.setServers(["bad host:x"]));
    assert.deepEqual(client.servers, [names[0]]);
    assert.equal(await client.set("still", 1), true);
  });

  describe("auto discovery", () => {
    test("picks up a changed node list", async () => {
      let nodes = { version: 1, servers: [names[0]] };
      const config = await endpoint(() => nodes);
      const address = config.address() as { port: number };
      try {
        await using client = new Client([names[0]], {
          discovery: { endpoint: `127.0.0.1:${address.port}`, interval: 1 },
        });
        await delay(200);
        assert.deepEqual(client.servers, [names[0]]);
        nodes = { version: 2, servers: [names[1], names[2]] };
        for (let i = 0; i < 40 && client.servers.length !== 2; i++) await delay(100);
        assert.deepEqual(client.servers, [names[1], names[2]]);
        await client.set("discovered", "here");
        await using direct = new Client(client.serverFor("discovered"));
        assert.equal(await direct.get("discovered"), "here");
      } finally {
        config.close();
      }
    });

    test("a failed question keeps the servers and reaches onCommand", async () => {
      const config = await endpoint(() => "ERROR");
      const address = config.address() as { port: number };
      const events: CommandEvent[] = [];
      try {
        await using client = new Client([names[0]], {
          discovery: { endpoint: `127.0.0.1:${address.port}`, interval: 1 },
          onCommand: (e) => events.push(e),
        });
        for (let i = 0; i < 20 && !events.some((e) => e.operation === "discover"); i++) {
          await delay(50);
        }
        const failed = events.find((e) => e.operation === "discover");
        assert.ok(failed?.error, "the failure was reported");
        assert.deepEqual(client.servers, [names[0]]);
      } finally {
        config.close();
      }
    });
  });
});

describe("config get cluster", () => {
  test("reads the version and each node's address, its IP when it has one", () => {
    const data = "12\nmc1.example|10.0.0.1|11211 mc2.example||11212\n";
    assert.deepEqual(
      parseClusterConfig(`CONFIG cluster 0 ${data.length}\r\n${data}\r\nEND\r\n`),
      { version: 12, servers: ["10.0.0.1:11211", "mc2.example:11212"] },
    );
  });

  test("says what is wrong with an answer that is not a configuration", () => {
    assert.match(parseClusterConfig("ERROR\r\n") as string, /not a cluster configuration/);
    const bad = "1\nno-port\n";
    assert.match(
      parseClusterConfig(`CONFIG cluster 0 ${bad.length}\r\n${bad}\r\nEND\r\n`) as string,
      /not host\|ip\|port/,
    );
    assert.match(
      parseClusterConfig("CONFIG cluster 0 99\r\n1\nh|1.2.3.4|1\n\r\nEND\r\n") as string,
      /length/,
    );
  });
});
