/**
 * Nothing lost: with the default serializer every value reads back equal and
 * of the same type, or is refused with InvalidArguments before a byte is
 * sent; and a stored value that does not read as its flags say is
 * UnreadableValue, never bytes in place of the type that was stored.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Client, InvalidArguments, SomeErrors, UnreadableValue } from "../mod.ts";
import { type Memcached, raw, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

/** Values that read back equal and of the same type. */
const KEPT: [string, unknown][] = [
  ["bytes", new Uint8Array([0, 255, 10])],
  ["empty bytes", new Uint8Array()],
  ["text", "héllo ✓ \u{1F600}"],
  ["empty text", ""],
  ["text with a byte order mark", "\uFEFFx"],
  ["true", true],
  ["false", false],
  ["zero", 0],
  ["a negative integer", -7],
  ["the largest safe integer", Number.MAX_SAFE_INTEGER],
  ["a fraction", 1.25],
  ["a large number", 1e300],
  ["a small bigint", 5n],
  ["a bigint past 2^64", 2n ** 70n],
  ["a negative bigint", -(2n ** 70n)],
  ["null", null],
  ["a plain object", { a: "b", n: 1, nested: { list: [1, "x", null, true] } }],
  ["an array", [1, "x", [2.5], { k: null }]],
  ["an empty object", {}],
  ["an empty array", []],
  ["a lone surrogate inside JSON", { s: "\uD800" }],
];

/** Values JSON would change or lose, refused before sending, and where the refusal points. */
const REFUSED: [string, unknown, string][] = [
  ["a Map", new Map([["a", 1]]), "a Map"],
  ["a Set", new Set([1]), "a Set"],
  ["a DataView", new DataView(new ArrayBuffer(2)), "a DataView"],
  ["a Float64Array", new Float64Array([1.5]), "a Float64Array"],
  ["an Int32Array", new Int32Array([1]), "an? Int32Array"],
  ["a Uint16Array", new Uint16Array([1]), "a Uint16Array"],
  ["a Date", new Date(0), "a Date"],
  ["a RegExp", /x/, "a RegExp"],
  ["an Error", new Error("e"), "an? Error"],
  ["a class instance", new (class Point {})(), "a Point"],
  ["a boxed string", new String("s"), "a String"],
  ["a function", () => 1, "a function"],
  ["a symbol", Symbol("s"), "a symbol"],
  ["undefined", undefined, "undefined"],
  ["NaN", NaN, "NaN"],
  ["Infinity", -Infinity, "Infinity"],
  ["a lone surrogate", "\uD800", "lone surrogate"],
  ["a Map in an object", { a: { m: new Map() } }, "a Map at .a.m"],
  ["a Set in an array", [1, new Set()], "a Set at \\[1\\]"],
  ["a typed array in an object", { v: new Float32Array(1) }, "a Float32Array at .v"],
  ["a Date in an array", [new Date(0)], "a Date at \\[0\\]"],
  ["a function in an object", { f() {} }, "a function at .f"],
  ["undefined in an object", { u: undefined }, "undefined at .u"],
  ["undefined in an array", [undefined], "undefined at \\[0\\]"],
  ["a hole in an array", [1, , 3], "undefined at \\[1\\]"],
  ["NaN in an object", { n: NaN }, "NaN at .n"],
  ["a symbol key", { [Symbol("k")]: 1 }, "a symbol"],
  ["a bigint in an object", { n: 1n }, "BigInt"],
  [
    "a cycle",
    (() => {
      const o: Record<string, unknown> = {};
      o.self = o;
      return o;
    })(),
    "circular|cyclic",
  ],
  ["an odd key", { "a b": new Map() }, 'a Map at \\["a b"\\]'],
];

suite("values", ["memcached"], () => {
  let server: Memcached;
  let client: Client;
  let n = 0;
  const key = (name: string) => `values:${name.replace(/\W/g, "")}:${++n}`;

  before(async () => {
    server = await startMemcached();
    client = new Client(server.server);
  });
  after(async () => {
    client?.close();
    await server?.stop();
  });

  for (const [name, value] of KEPT) {
    test(`${name} reads back equal and of the same type`, async () => {
      const k = key(name);
      assert.equal(await client.set(k, value), true);
      const back = await client.get(k);
      assert.deepEqual(back, value);
      assert.equal(Object.prototype.toString.call(back), Object.prototype.toString.call(value));
      assert.equal(typeof back, typeof value);
    });
  }

  for (const [name, value, where] of REFUSED) {
    test(`${name} is refused with InvalidArguments before anything is sent`, async () => {
      const k = key(name);
      const before = await raw(server.server, "stats\r\n");
      await assert.rejects(
        client.set(k, value),
        (err) =>
          err instanceof InvalidArguments && err.key === k &&
          new RegExp(where).test(err.message),
      );
      await assert.rejects(client.setMulti({ [k]: value }), InvalidArguments);
      const after = await raw(server.server, "stats\r\n");
      assert.equal(/cmd_set (\d+)/.exec(after)![1], /cmd_set (\d+)/.exec(before)![1]);
    });
  }

  test("an object without a prototype reads back as a plain object with the same entries", async () => {
    const k = key("bare");
    await client.set(k, Object.assign(Object.create(null), { a: 1 }));
    assert.deepEqual({ ...await client.get<object>(k) }, { a: 1 });
  });

  test("an integer made unreadable by append is UnreadableValue, not bytes", async () => {
    const k = key("appended");
    await client.set(k, 5);
    await client.append(k, "x");
    await assert.rejects(
      client.get(k),
      (err) => err instanceof UnreadableValue && err.key === k && /"5x"/.test(err.message),
    );
  });

  test("text that is not UTF-8 is UnreadableValue", async () => {
    const k = key("latin1");
    await client.set(k, "é");
    await client.append(k, new Uint8Array([0xff]));
    await assert.rejects(client.get(k), UnreadableValue);
  });

  test("getMulti reports an unreadable value per key in SomeErrors, with the others' values", async () => {
    const [good, bad] = [key("good"), key("bad")];
    await client.setMulti({ [good]: "fine", [bad]: 7 });
    await client.append(bad, "!");
    const err = await client.getMulti([good, bad]).catch((e) => e);
    assert.ok(err instanceof SomeErrors);
    assert.deepEqual(err.results, new Map([[good, "fine"]]));
    assert.ok(err.errors.get(bad) instanceof UnreadableValue);
  });
});
