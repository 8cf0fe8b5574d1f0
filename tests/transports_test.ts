/**
 * The behaviour suite through every socket adapter this runtime can run:
 * the `node:net` adapter (the default on Node) runs on Deno and Bun too.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, ConnectionError, HostLookupError, UnixSocketError } from "../mod.ts";
import { connectNode } from "../transport/mod.ts";
import { freePort, startMemcached } from "./memcached.ts";
import { operations } from "./operations.ts";
import { suite } from "./tools.ts";

operations("over node:net, tcp", () => startMemcached(), false, { connector: connectNode });
operations("over node:net, unix", () => startMemcached({ unix: true }), false, {
  connector: connectNode,
});

suite("node:net connection failures", ["memcached"], () => {
  test("map to the same classes as the runtime's own adapter", async () => {
    const port = await freePort();
    for (
      const [server, Class] of [
        [`127.0.0.1:${port}`, ConnectionError],
        ["no-such-host.invalid:11211", HostLookupError],
        ["/tmp/no-such-dir/memcached.sock", UnixSocketError],
      ] as const
    ) {
      await using client = new Client(server, { connector: connectNode });
      await assert.rejects(client.get("k"), Class, server);
    }
  });
});
