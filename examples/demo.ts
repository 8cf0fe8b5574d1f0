/**
 * A tour of every operation: `deno task demo`.
 *
 * Uses the server in MEMCACHED_SERVERS (e.g. `127.0.0.1:11211`) when it is
 * set, and otherwise starts a memcached of its own on a free local port.
 */
import process from "node:process";
import { Client, NotFound } from "../mod.ts";
import { type Memcached, startMemcached } from "../tests/memcached.ts";

const given = process.env.MEMCACHED_SERVERS;
let local: Memcached | undefined;
if (!given) {
  local = await startMemcached();
  console.log(`started memcached on ${local.server}`);
}
const servers = given ? given.split(",") : [local!.server];

const show = (what: string, result: unknown) =>
  console.log(what.padEnd(44), typeof result === "bigint" ? `${result}n` : result);

await using client = new Client(servers, { keyPrefix: "demo:", timeout: 2000 });
try {
  show(`set("greeting", "hello", { ttl: 60 })`, await client.set("greeting", "hello", { ttl: 60 }));
  show(`get("greeting")`, await client.get("greeting"));
  show(`get("missing")`, await client.get("missing"));
  show(`add("greeting", "again")`, await client.add("greeting", "again"));
  show(`replace("greeting", "hi")`, await client.replace("greeting", "hi"));
  show(`append("greeting", "!")`, await client.append("greeting", "!"));
  show(`prepend("greeting", ">")`, await client.prepend("greeting", ">"));
  const hit = await client.gets("greeting");
  show(`gets("greeting")`, hit);
  show(`cas("greeting", "swapped", token)`, await client.cas("greeting", "swapped", hit!.cas));
  show(`cas("greeting", "late", same token)`, await client.cas("greeting", "late", hit!.cas));
  show(`set("user", { name: "Ada" })`, await client.set("user", { name: "Ada", langs: ["en"] }));
  show(`get("user")`, await client.get("user"));
  show(`set("hits", 41)`, await client.set("hits", 41));
  show(`incr("hits")`, await client.incr("hits"));
  show(`decr("hits", 100)`, await client.decr("hits", 100));
  show(`set("big", 2n ** 64n - 2n)`, await client.set("big", 2n ** 64n - 2n));
  show(`incr("big")`, await client.incr("big"));
  try {
    await client.incr("no-such-counter");
  } catch (err) {
    show(`incr("no-such-counter")`, `${(err as Error).name}: ${(err as Error).message}`);
  }
  show(`touch("greeting", 300)`, await client.touch("greeting", 300));
  show(`getAndTouch("greeting", 600)`, await client.getAndTouch("greeting", 600));
  show(`getWithMeta("greeting")`, await client.getWithMeta("greeting").catch((e) => e.name));
  show(`serverFor("greeting")`, client.serverFor("greeting"));
  show(`setMulti({ a: 1, b: "two", c: true })`, await client.setMulti({ a: 1, b: "two", c: true }));
  show(`addMulti({ a: 9, d: 4 })`, await client.addMulti({ a: 9, d: 4 }));
  show(
    `getMulti(["a", "b", "c", "d", "nope"])`,
    await client.getMulti(["a", "b", "c", "d", "nope"]),
  );
  show(`incrMulti(["a", "d"], 10)`, await client.incrMulti(["a", "d"], 10));
  try {
    await client.incrMulti(["a", "nope"]);
  } catch (err) {
    if (!(err instanceof NotFound)) throw err;
    show(`incrMulti(["a", "nope"])`, `NotFound, missing ${err.keys}, done ${[...err.results!]}`);
  }
  show(`deleteMulti(["a", "b"])`, await client.deleteMulti(["a", "b"]));
  show(`delete("greeting")`, await client.delete("greeting"));
  show(`delete("greeting") again`, await client.delete("greeting"));
  show(`version()`, await client.version());
  const stats = await client.stats();
  for (const [server, values] of stats) {
    show(`stats() of ${server}`, `${values.curr_items} items, ${values.get_hits} hits`);
  }
  show(`flushAll()`, await client.flushAll());
} finally {
  await local?.stop();
}
