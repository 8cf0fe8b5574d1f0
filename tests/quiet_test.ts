/**
 * Quiet writes ({ noreply: true }): the call resolves once the request is
 * written, the server's answer is still read so the stream stays in step,
 * and a failure it reports later reaches onCommand.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client, type CommandEvent, InvalidArguments, TooBig } from "../mod.ts";
import { type Memcached, startMemcached } from "./memcached.ts";
import { recording } from "./recording.ts";
import { suite } from "./tools.ts";

suite("quiet writes", ["memcached"], () => {
  let server: Memcached;
  let n = 0;
  const key = (name: string) => `quiet:${name}:${++n}`;

  before(async () => {
    server = await startMemcached();
  });
  after(() => server.stop());

  for (const protocol of ["meta", "binary", "text"] as const) {
    describe(`over ${protocol}`, () => {
      test("10,000 quiet sets all land", async () => {
        await using client = new Client(server.server, { protocol, maxConnections: 1 });
        const keys = Array.from({ length: 10_000 }, (_, i) => key(`bulk${i}`));
        const sent = await Promise.all(keys.map((k) => client.set(k, k, { noreply: true })));
        assert.ok(sent.every((ok) => ok === true));
        const found = await client.getMulti(keys);
        assert.equal(found.size, keys.length);
        assert.ok(keys.every((k) => found.get(k) === k));
      });

      test("a quiet set resolves once written, before the server answers", async () => {
        await using client = new Client(server.server, { protocol, maxConnections: 1 });
        const k = key("paused");
        await client.set(key("warm"), 1);
        await server.pause();
        try {
          assert.equal(await client.set(k, "v", { noreply: true }), true);
        } finally {
          server.resume();
        }
        assert.equal(await client.get(k), "v");
      });

      test("quiet add, replace, delete and touch do their work", async () => {
        await using client = new Client(server.server, { protocol, maxConnections: 1 });
        const [a, b] = [key("a"), key("b")];
        await client.add(a, "added", { noreply: true });
        await client.set(b, "old");
        await client.replace(b, "replaced", { noreply: true });
        assert.deepEqual(await client.getMulti([a, b]), new Map([[a, "added"], [b, "replaced"]]));
        await client.touch(a, 100, { noreply: true });
        await client.delete(b, { noreply: true });
        assert.equal(await client.get(b), undefined);
        assert.equal(await client.get(a), "added");
      });

      test("a failure the server reports later reaches onCommand; the next call is unharmed", async () => {
        const events: CommandEvent[] = [];
        await using client = new Client(server.server, {
          protocol,
          maxConnections: 1,
          maxValueSize: 4 << 20,
          onCommand: (e) => events.push(e),
        });
        const k = key("huge");
        assert.equal(await client.set(k, new Uint8Array(2 << 20), { noreply: true }), true);
        assert.equal(await client.set(key("after"), "fine"), true);
        const failed = events.find((e) => e.key === k);
        assert.ok(failed?.error instanceof TooBig, String(failed?.error));
      });
    });
  }

  test("meta sends the q flag and a closing mn", async () => {
    const { connector, writes } = recording();
    await using client = new Client(server.server, {
      protocol: "meta",
      connector,
      maxConnections: 1,
    });
    const k = key("wire");
    await client.set(k, "v", { noreply: true });
    await client.get(k);
    assert.ok(writes.join("").includes(`ms ${k} 1 F16 q O`), writes.join(""));
    assert.ok(writes.join("").includes("\r\nmn\r\n"));
  });

  test("noreply on cas, append, prepend or setMulti is InvalidArguments", async () => {
    await using client = new Client(server.server);
    const quiet = { noreply: true } as Record<string, unknown>;
    await assert.rejects(client.append("k", "x", quiet), InvalidArguments);
    await assert.rejects(client.cas("k", "x", 1n, quiet), InvalidArguments);
    await assert.rejects(client.setMulti({ k: 1 }, quiet), InvalidArguments);
  });
});
