/**
 * The Cloudflare Workers adapter, run against a real memcached through a
 * stand-in for `cloudflare:sockets` that follows its API (tests/workers_socket.ts),
 * so that the whole behaviour suite runs over it; workerd_test.ts runs the
 * client in the Workers runtime itself.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, ConnectionError, NotSupportedError } from "../mod.ts";
import { connectorFor, connectWorkers, detectRuntime, workersConnector } from "../transport/mod.ts";
import { startMemcached } from "./memcached.ts";
import { operations } from "./operations.ts";
import { connect, opened } from "./workers_socket.ts";
import { suite } from "./tools.ts";

operations("over the Workers socket API (stand-in)", () => startMemcached(), false, {
  connector: workersConnector(connect),
});

suite("Workers adapter", ["memcached"], () => {
  test("Workers are recognised by their user agent, and get the Workers connector", () => {
    const scope = {
      navigator: { userAgent: "Cloudflare-Workers" },
      process: { versions: { node: "20" } },
    };
    assert.equal(detectRuntime(scope), "workers");
    assert.equal(connectorFor("workers"), connectWorkers);
    assert.equal(detectRuntime({ process: { versions: { node: "20.0.0" } } }), "node");
  });

  test("sockets are opened plain, with allowHalfOpen off, to the server's host and port", async () => {
    const server = await startMemcached();
    const client = new Client(server.server, { connector: workersConnector(connect) });
    try {
      opened.length = 0;
      await client.version();
      const [host, port] = server.server.split(":");
      assert.deepEqual(opened, [{ hostname: host, port: Number(port), secureTransport: "off" }]);
    } finally {
      client.close();
      await server.stop();
    }
  });

  test("tls: true asks for secureTransport on; a private CA is NotSupportedError", async () => {
    const client = new Client("127.0.0.1:1", { tls: true, connector: workersConnector(connect) });
    opened.length = 0;
    await assert.rejects(client.get("k"), ConnectionError);
    assert.equal(opened[0].secureTransport, "on");
    client.close();
    const pinned = new Client("127.0.0.1:1", {
      tls: { ca: "PEM" },
      connector: workersConnector(connect),
    });
    await assert.rejects(pinned.get("k"), NotSupportedError);
    pinned.close();
  });

  test("a Unix socket is NotSupportedError", async () => {
    const client = new Client("/tmp/none.sock", { connector: workersConnector(connect) });
    await assert.rejects(client.get("k"), NotSupportedError);
    client.close();
  });

  test("outside Workers, the lazy connector says cloudflare:sockets is missing", async () => {
    const client = new Client("127.0.0.1:1", { connector: connectWorkers });
    await assert.rejects(client.get("k"), NotSupportedError);
    client.close();
  });
});
