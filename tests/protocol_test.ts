/**
 * Choosing the protocol, and what the meta protocol adds: quiet multi-key
 * writes, opaque checks, and base64 binary keys.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Connection } from "../connection/mod.ts";
import { BadKeyProvided, Client, NotSupportedError, ProtocolError } from "../mod.ts";
import type { SocketEvents } from "../transport/mod.ts";
import { recording } from "./recording.ts";
import { type Memcached, startMemcached, startTwemproxy } from "./memcached.ts";
import { suite } from "./tools.ts";

const lines = (writes: string[]) => writes.join("").split("\r\n");

suite("protocols", ["memcached"], () => {
  let server: Memcached;

  before(async () => {
    server = await startMemcached();
  });
  after(async () => {
    await server?.stop();
  });

  test("auto speaks meta to memcached 1.6", async () => {
    const { connector, writes } = recording();
    await using client = new Client(server.server, { connector });
    await client.set("auto", 1);
    assert.equal(await client.get("auto"), 1);
    assert.ok(lines(writes).some((line) => line.startsWith("ms auto ")));
    assert.ok(lines(writes).some((line) => line.startsWith("mg auto ")));
  });

  test("auto speaks text through twemproxy, which refuses meta commands", async () => {
    const proxy = await startTwemproxy([server.server]);
    try {
      const { connector, writes } = recording();
      await using client = new Client(proxy.server, { connector });
      await client.set("proxied", 1);
      assert.equal(await client.get("proxied"), 1);
      assert.ok(lines(writes).some((line) => line.startsWith("set proxied ")));
    } finally {
      await proxy.stop();
    }
  });

  test("with meta, multi-key writes are one batch closed by mn, each write answering", async () => {
    const { connector, writes } = recording();
    await using client = new Client(server.server, { connector, protocol: "meta" });
    await client.set("q:exists", "old");
    writes.length = 0;
    assert.deepEqual(await client.addMulti({ "q:exists": "new", "q:fresh": "v" }), ["q:exists"]);
    const sent = lines(writes);
    // Not quiet: a refusal (an ER line, which names no opaque) is known by its place.
    assert.deepEqual(
      sent.filter((line) => line.startsWith("ms ")).map((l) => l.split(" ").includes("q")),
      [
        false,
        false,
      ],
    );
    assert.ok(sent.includes("mn"));
    assert.equal(await client.get("q:exists"), "old");
    assert.equal(await client.get("q:fresh"), "v");
    assert.equal(await client.deleteMulti(["q:fresh", "q:missing"]), false);
    assert.equal(await client.get("q:fresh"), undefined);
  });

  test("binaryKeys allows any key, sent base64 with the meta protocol", async () => {
    await using client = new Client(server.server, { binaryKeys: true });
    const keys = ["a b", "line\r\nflush_all", "tab\there", "nul\0", "é ✓"];
    assert.deepEqual(await client.setMulti(keys.map((k) => [k, `value of ${k}`] as const)), []);
    for (const key of keys) assert.equal(await client.get(key), `value of ${key}`);
    assert.deepEqual(await client.getMulti(keys), new Map(keys.map((k) => [k, `value of ${k}`])));
    assert.equal(await client.incr("a b", 1).catch((e) => e.name), "ClientError");
    await assert.rejects(client.get("x".repeat(251)), BadKeyProvided);
    await using plain = new Client(server.server);
    assert.equal(await plain.get("a"), undefined);
  });

  test("binaryKeys is NotSupportedError with the text protocol", () => {
    assert.throws(
      () => new Client(server.server, { binaryKeys: true, protocol: "text" }),
      NotSupportedError,
    );
  });
});

suite("opaque tokens", ["memcached"], () => {
  test("a meta reply with another request's opaque is a ProtocolError and the connection is replaced", async () => {
    const sockets: SocketEvents[] = [];
    let closed = 0;
    const connection = new Connection({ kind: "tcp", host: "scripted", port: 1 }, {
      connectTimeout: 1000,
      maxValueSize: 1024,
      socket: { noDelay: true, keepAlive: false },
      stallTimeout: 1000,
      connector: (_address, events) => {
        sockets.push(events);
        return Promise.resolve({ write: () => Promise.resolve(), close: () => void closed++ });
      },
    });
    const request = (opaque: string) =>
      connection.request({
        encode: (w) => w.ascii(`mg k v O${opaque}\r\n`),
        expect: "meta",
        operation: "get",
        key: "k",
        timeout: 1000,
        opaque,
      });
    const first = request("1");
    const second = request("2");
    while (sockets.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    await new Promise((resolve) => setTimeout(resolve, 1));
    sockets[0].data(new TextEncoder().encode("HD O2\r\nHD O1\r\n"));
    await assert.rejects(first, ProtocolError);
    await assert.rejects(second);
    assert.equal(closed, 1);
    const third = request("3");
    while (sockets.length === 1) await new Promise((resolve) => setTimeout(resolve, 1));
    await new Promise((resolve) => setTimeout(resolve, 1));
    sockets[1].data(new TextEncoder().encode("HD O3\r\n"));
    assert.equal((await third).meta?.code, "HD");
    connection.close();
  });
});
