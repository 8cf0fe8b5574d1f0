/**
 * Time to live as users mean it: a relative ttl past 30 days (where
 * memcached reads the number as a Unix time), `expiresAt`, and the
 * client's default `ttl`, read back through the meta protocol's ttl.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Client, InvalidArguments } from "../mod.ts";
import { type Memcached, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

const DAY = 24 * 3600;

suite("ttl", ["memcached"], () => {
  let server: Memcached;
  let client: Client;

  before(async () => {
    server = await startMemcached();
    client = new Client(server.server, { protocol: "meta" });
  });
  after(async () => {
    client?.close();
    await server?.stop();
  });

  /**
   * Seconds `key` has left to live, `undefined` for never. memcached's
   * clock ticks once a second and may be up to one behind this process's,
   * so an absolute time reads as up to a second more than it means.
   */
  const left = async (c: Client, key: string) => (await c.getWithMeta(key))?.ttl;

  test("a ttl over 30 days counts from now, not from 1970", async () => {
    assert.equal(await client.set("ttl:long", "kept", { ttl: 31 * DAY }), true);
    assert.equal(await client.get("ttl:long"), "kept");
    const ttl = (await left(client, "ttl:long"))!;
    assert.ok(ttl > 31 * DAY - 10 && ttl <= 31 * DAY + 1, `ttl ${ttl}`);
  });

  test("expiresAt sets when the item expires", async () => {
    await client.set("ttl:at", "v", { expiresAt: new Date(Date.now() + 120_000) });
    const ttl = (await left(client, "ttl:at"))!;
    assert.ok(ttl > 110 && ttl <= 122, `ttl ${ttl}`);
  });

  test("an expiresAt in the past expires the item at once", async () => {
    await client.set("ttl:past", "v");
    await client.set("ttl:past", "v", { expiresAt: new Date(Date.now() - 60_000) });
    assert.equal(await client.get("ttl:past"), undefined);
  });

  test("the client's ttl option is the default; a ttl of 0 still means never", async () => {
    await using short = new Client(server.server, { protocol: "meta", ttl: 300 });
    await short.set("ttl:default", "v");
    const ttl = (await left(short, "ttl:default"))!;
    assert.ok(ttl > 290 && ttl <= 300, `ttl ${ttl}`);
    await short.set("ttl:never", "v", { ttl: 0 });
    assert.equal(await left(short, "ttl:never"), undefined);
    await short.setMulti({ "ttl:many": "v" });
    assert.ok((await left(short, "ttl:many"))! > 290);
  });

  test("touch and getAndTouch take a ttl over 30 days as relative too", async () => {
    await client.set("ttl:touch", "v");
    assert.equal(await client.touch("ttl:touch", 40 * DAY), true);
    assert.ok((await left(client, "ttl:touch"))! > 40 * DAY - 10);
    assert.equal(await client.getAndTouch("ttl:touch", 50 * DAY), "v");
    assert.ok((await left(client, "ttl:touch"))! > 50 * DAY - 10);
  });

  test("bad expiries are refused before anything is sent", async () => {
    const at = new Date(Date.now() + 1000);
    await assert.rejects(client.set("ttl:bad", "v", { ttl: 5, expiresAt: at }), InvalidArguments);
    await assert.rejects(client.set("ttl:bad", "v", { expiresAt: new Date(NaN) }), TypeError);
    await assert.rejects(client.set("ttl:bad", "v", { ttl: -1 }), InvalidArguments);
    await assert.rejects(client.set("ttl:bad", "v", { ttl: 2 ** 31 - 10 }), InvalidArguments);
    assert.throws(() => new Client(server.server, { ttl: -5 }), InvalidArguments);
    assert.equal(await client.get("ttl:bad"), undefined);
  });
});
