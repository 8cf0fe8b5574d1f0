/**
 * Deno's op and resource sanitizers around clients and pools: after close,
 * no socket, read, timer or other op is left behind. Deno only (the
 * node:test files run unsanitized under Deno), so its name does not end in
 * _test: `deno task test` names it.
 */
import { Client, ClientPool } from "../mod.ts";
import { startMemcached } from "./memcached.ts";

const server = await startMemcached();
const sanitized = { sanitizeOps: true, sanitizeResources: true, sanitizeExit: true };

Deno.test({
  name: "a closed client leaves no socket, read or timer behind",
  ...sanitized,
  async fn() {
    const client = new Client(server.server, { maxConnections: 3, idleTimeout: 50 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => client.set(`s${i}`, i)));
    await client.get("s1", { timeout: 1000 });
    client.close();
  },
});

Deno.test({
  name: "a closed client pool leaves nothing behind, with reservations waiting",
  ...sanitized,
  async fn() {
    const template = new Client(server.server);
    const pool = new ClientPool(template, 2);
    const leases = await Promise.all([pool.reserve(), pool.reserve()]);
    await Promise.all(leases.map((lease) => lease.client.set("p", 1)));
    const waiting = pool.reserve({ timeout: 10_000 }).catch(() => "rejected");
    pool.close();
    template.close();
    if (await waiting !== "rejected") throw new Error("a waiting reservation survived close");
  },
});

Deno.test({
  name: "idle connections closed by their timer leave nothing behind",
  ...sanitized,
  async fn() {
    const client = new Client(server.server, { idleTimeout: 20 });
    await client.set("idle", 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    client.close();
  },
});

Deno.test({
  name: "stop memcached",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => server.stop(),
});
