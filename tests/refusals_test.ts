/**
 * A value refused as too big leaves no stale value behind, whichever side
 * refuses it (this client before sending, or memcached's item limit), and
 * a write of many keys reports refused keys as not stored, on every protocol.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client, TooBig } from "../mod.ts";
import { type Memcached, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

const PROTOCOLS = ["text", "meta", "binary"] as const;
// Over memcached's default 1 MiB item limit, under the client's 4 MiB limit.
const OVER_SERVER = new Uint8Array(2 << 20);
// Over the client's 1,000-byte limit.
const OVER_CLIENT = "x".repeat(1001);

suite("refused values", ["memcached"], () => {
  let server: Memcached;
  let n = 0;
  const key = (name: string) => `refused:${name}:${++n}`;

  before(async () => {
    server = await startMemcached();
  });
  after(() => server.stop());

  for (const protocol of PROTOCOLS) {
    describe(protocol, () => {
      let lenient: Client;
      let strict: Client;
      before(() => {
        lenient = new Client(server.server, { protocol, maxValueSize: 4 << 20 });
        strict = new Client(server.server, { protocol, maxValueSize: 1000 });
      });
      after(() => {
        lenient.close();
        strict.close();
      });

      for (
        const [side, big, client] of [
          ["the server", OVER_SERVER, () => lenient],
          ["this client", OVER_CLIENT, () => strict],
        ] as const
      ) {
        test(`a set ${side} refuses is TooBig and deletes the old value`, async () => {
          const k = key("set");
          await client().set(k, "old");
          await assert.rejects(client().set(k, big), TooBig);
          assert.equal(await client().get(k), undefined);
        });

        test(`setMulti returns the key ${side} refuses, deleted, and stores the rest`, async () => {
          const [a, b, c] = [key("a"), key("b"), key("c")];
          await client().setMulti({ [a]: "old", [b]: "old", [c]: "old" });
          assert.deepEqual(await client().setMulti({ [a]: "new", [b]: big, [c]: "new" }), [b]);
          assert.deepEqual(
            await client().getMulti([a, b, c]),
            new Map([[a, "new"], [c, "new"]]),
          );
        });
      }

      test("an add or cas this client refuses leaves the value it would not have replaced", async () => {
        const k = key("conditional");
        await strict.set(k, "current");
        const token = (await strict.gets(k))!.cas;
        await assert.rejects(strict.add(k, OVER_CLIENT), TooBig);
        await assert.rejects(strict.cas(k, OVER_CLIENT, token), TooBig);
        assert.deepEqual(await strict.addMulti({ [k]: OVER_CLIENT }), [k]);
        assert.equal(await strict.get(k), "current");
      });

      test("a replace, append or prepend this client refuses deletes the value", async () => {
        for (const verb of ["replace", "append", "prepend"] as const) {
          const k = key(verb);
          await strict.set(k, "old");
          await assert.rejects(strict[verb](k, OVER_CLIENT), TooBig);
          assert.equal(await strict.get(k), undefined, verb);
        }
      });
    });
  }
});
