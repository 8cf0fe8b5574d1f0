/**
 * Values shared with Python: Debian's python3-pylibmc (under /usr/bin/python3)
 * and this client on the same memcached each read what the other wrote,
 * compressed values included.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { Client } from "../mod.ts";
import { type Memcached, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

const PYTHON = "/usr/bin/python3";

/** Runs a Python snippet with `mc`, a pylibmc client for `server`, and returns what it printed as JSON. */
function python(server: string, body: string): Promise<unknown> {
  const script = `
import json, sys, pylibmc
mc = pylibmc.Client([sys.argv[1]], behaviors={"cas": True})
def show(v):
    if isinstance(v, bytes): return ["bytes", v.hex()]
    return [type(v).__name__, v]
${body}
`;
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ["-c", script, server], (err, stdout, stderr) => {
      if (err) {
        reject(
          new Error(`${PYTHON} failed (is python3-pylibmc installed?): ${stderr || err.message}`),
        );
      } else resolve(JSON.parse(stdout));
    });
  });
}

suite("interop with pylibmc", ["memcached", "pylibmc"], () => {
  let server: Memcached;
  let client: Client;

  before(async () => {
    server = await startMemcached();
    client = new Client(server.server, { compression: { threshold: 64 } });
  });
  after(async () => {
    client?.close();
    await server?.stop();
  });

  test("values written by pylibmc read back equal here", async () => {
    await python(
      server.server,
      `
mc.set("py:bytes", b"\\x00\\xffraw")
mc.set("py:text", "h\\u00e9llo \\u2713")
mc.set("py:int", -42)
mc.set("py:big", 2**64 + 1)
mc.set("py:true", True)
mc.set("py:false", False)
mc.set("py:ztext", "zip " * 500, min_compress_len=10)
mc.set("py:zbytes", b"z" * 5000, min_compress_len=10, compress_level=9)
mc.set("py:pickle", [1, 2])
print("{}")
`,
    );
    const values = await client.getMulti([
      "py:bytes",
      "py:text",
      "py:int",
      "py:big",
      "py:true",
      "py:false",
      "py:ztext",
      "py:zbytes",
    ]);
    assert.deepEqual(
      values,
      new Map<string, unknown>([
        ["py:bytes", new Uint8Array([0, 0xff, ...new TextEncoder().encode("raw")])],
        ["py:text", "héllo ✓"],
        ["py:int", -42],
        ["py:big", 2n ** 64n + 1n],
        ["py:true", true],
        ["py:false", false],
        ["py:ztext", "zip ".repeat(500)],
        ["py:zbytes", new Uint8Array(5000).fill(0x7a)],
      ]),
    );
    const pickle = await client.get("py:pickle");
    assert.ok(pickle instanceof Uint8Array, "a pickle comes back as raw bytes");
    assert.equal(pickle[0], 0x80);
  });

  test("values written here read back equal in pylibmc", async () => {
    await client.setMulti({
      "ts:bytes": new Uint8Array([0, 0xff]),
      "ts:text": "héllo ✓",
      "ts:int": -42,
      "ts:big": 2n ** 64n + 1n,
      "ts:true": true,
      "ts:ztext": "zip ".repeat(500),
      "ts:json": { a: [1, "b"] },
    });
    const seen = await python(
      server.server,
      `
keys = ["ts:bytes", "ts:text", "ts:int", "ts:big", "ts:true", "ts:ztext", "ts:json"]
print(json.dumps({k: show(mc.get(k)) for k in keys}))
`,
    );
    assert.deepEqual(seen, {
      "ts:bytes": ["bytes", "00ff"],
      "ts:text": ["str", "héllo ✓"],
      "ts:int": ["int", -42],
      "ts:big": ["int", 18446744073709551617],
      "ts:true": ["int", 1],
      "ts:ztext": ["str", "zip ".repeat(500)],
      "ts:json": ["str", '{"a":[1,"b"]}'],
    });
  });

  test("integers of any length cross both ways, as bigints here and ints there", async () => {
    const lengths = [1, 16, 17, 31, 100, 1000];
    const written = await python(
      server.server,
      `
out = {}
for n in ${JSON.stringify(lengths)}:
    for sign in (1, -1):
        v = sign * int("9" * n)
        mc.set(f"py:int:{n}:{sign}", v)
        out[f"py:int:{n}:{sign}"] = str(v)
print(json.dumps(out))
`,
    ) as Record<string, string>;
    for (const [key, digits] of Object.entries(written)) {
      const value = await client.get(key);
      const expected = BigInt(digits);
      assert.equal(BigInt(value as number | bigint), expected, key);
      assert.equal(typeof value, Number.isSafeInteger(Number(expected)) ? "number" : "bigint", key);
    }
    const mine = { "ts:int:1000": -BigInt("8".repeat(1000)), "ts:int:small": 5n };
    await client.setMulti(mine);
    const seen = await python(
      server.server,
      `print(json.dumps({k: [type(mc.get(k)).__name__, str(mc.get(k))] for k in ${
        JSON.stringify(Object.keys(mine))
      }}))`,
    );
    assert.deepEqual(seen, {
      "ts:int:1000": ["int", `-${"8".repeat(1000)}`],
      "ts:int:small": ["int", "5"],
    });
    assert.equal(await client.get("ts:int:small"), 5n);
  });

  test("a counter is shared: incr here, incr there", async () => {
    await client.set("shared:hits", 10);
    const seen = await python(server.server, `print(json.dumps(mc.incr("shared:hits", 5)))`);
    assert.equal(seen, 15);
    assert.equal(await client.incr("shared:hits"), 16);
  });

  test("a counter incr creates with initial reads as an int in pylibmc", async () => {
    assert.equal(await client.incr("shared:created", 1, { initial: 7 }), 7);
    const seen = await python(
      server.server,
      `print(json.dumps([show(mc.get("shared:created")), mc.incr("shared:created", 2)]))`,
    );
    assert.deepEqual(seen, [["int", 7], 9]);
  });

  test("a cas token from this client is honoured against pylibmc's writes", async () => {
    await client.set("shared:cas", "a");
    const token = (await client.gets("shared:cas"))!.cas;
    await python(server.server, `mc.set("shared:cas", "b"); print("{}")`);
    assert.equal(await client.cas("shared:cas", "c", token), false);
    assert.equal(await client.get("shared:cas"), "b");
  });
});
