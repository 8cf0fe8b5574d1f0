/**
 * Keys land where pylibmc (libmemcached) puts them: pylibmc writes 10,000
 * keys to 5 real memcached processes, and every key is found, by reading each
 * server directly, on the server this client names for it. And where
 * php-memcached puts them: its `getServerByKey` (which sends nothing) names
 * the same server as `serverFor`.
 */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { after, before, test } from "node:test";
import { type Behaviors, Client } from "../mod.ts";
import { type Memcached, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

const KEYS = Array.from(
  { length: 10_000 },
  (_, i) => i % 7 === 0 ? `ключ:${i}:é` : i % 11 === 0 ? `emoji😀${i}` : `user:${i}:profile`,
);

/** Has pylibmc write every key (its value is the key) to `servers` with `behaviors`. */
function pylibmcWrites(servers: string[], behaviors: Behaviors): Promise<void> {
  const script = `
import json, sys, pylibmc
servers, behaviors, keys = json.loads(sys.stdin.read())
mc = pylibmc.Client(servers, behaviors=behaviors)
failed = mc.set_multi({k: k for k in keys})
assert not failed, failed
`;
  return new Promise((resolve, reject) => {
    const child = execFile(
      "/usr/bin/python3",
      ["-c", script],
      (err, _out, stderr) =>
        err ? reject(new Error(`pylibmc failed: ${stderr || err.message}`)) : resolve(),
    );
    child.stdin!.end(JSON.stringify([servers, behaviors, KEYS]));
  });
}

/** Where each key really is: read from every server on its own. */
async function whereKeysAre(servers: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const server of servers) {
    await using direct = new Client(server);
    for (const key of (await direct.getMulti(KEYS)).keys()) {
      assert.ok(!found.has(key), `${key} is on two servers`);
      found.set(key, server);
    }
  }
  return found;
}

suite("placement is the same as pylibmc's", ["memcached", "pylibmc"], () => {
  let servers: Memcached[];
  let names: string[];

  before(async () => {
    servers = await Promise.all(Array.from({ length: 5 }, () => startMemcached()));
    names = servers.map((s) => s.server);
  });
  after(async () => {
    await Promise.all(servers?.map((s) => s.stop()) ?? []);
  });

  async function check(list: string[], behaviors: Behaviors): Promise<void> {
    for (const name of names) {
      await using direct = new Client(name);
      await direct.flushAll();
    }
    await pylibmcWrites(list, behaviors);
    const actual = await whereKeysAre(names);
    assert.equal(actual.size, KEYS.length, "every key was stored once");
    await using client = new Client(list, { behaviors });
    const wrong = KEYS.filter((key) => client.serverFor(key) !== actual.get(key));
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} keys placed differently`);
    const sample = KEYS.filter((_, i) => i % 97 === 0);
    assert.deepEqual([...(await client.getMulti(sample)).keys()], sample);
    assert.deepEqual(await Promise.all(sample.map((key) => client.get(key))), sample);
    const used = new Set(actual.values());
    assert.equal(used.size, list.length, "every server got keys");
  }

  for (
    const hash of [
      "default",
      "md5",
      "crc",
      "fnv1_64",
      "fnv1a_64",
      "fnv1_32",
      "fnv1a_32",
      "murmur",
      "jenkins",
    ] as const
  ) {
    test(`modula with the ${hash} hash`, async () => {
      await check(names, { hash });
    });
  }

  test("ketama", async () => {
    await check(names, { ketama: true });
  });

  test("ketama with the fnv1a_32 hash", async () => {
    await check(names, { ketama: true, hash: "fnv1a_32" });
  });

  test("distribution consistent", async () => {
    await check(names, { distribution: "consistent" });
  });

  test("ketama_weighted with unequal weights", async () => {
    const weighted = names.map((name, i) => `${name}:${[1, 3, 2, 5, 1][i]}`);
    await check(weighted, { ketama_weighted: true });
  });

  test("ketama after one server is removed from both lists", async () => {
    await check(names.filter((_, i) => i !== 2), { ketama: true });
  });

  test("modula after one server is removed from both lists", async () => {
    await check(names.filter((_, i) => i !== 2), {});
  });
});

/** The server php-memcached names for each key, with OPT_LIBKETAMA_COMPATIBLE on `servers`. */
function phpPlaces(servers: string[], keys: string[]): Record<string, string> {
  const script = `
$input = json_decode(stream_get_contents(STDIN), true);
$m = new Memcached();
$m->setOption(Memcached::OPT_LIBKETAMA_COMPATIBLE, true);
foreach ($input[0] as $s) { [$host, $port] = explode(":", $s); $m->addServer($host, (int)$port); }
$out = [];
foreach ($input[1] as $k) { $s = $m->getServerByKey($k); $out[$k] = $s["host"] . ":" . $s["port"]; }
echo json_encode($out);
`;
  const out = execFileSync("php", ["-r", script], { input: JSON.stringify([servers, keys]) });
  return JSON.parse(String(out));
}

suite("placement is the same as php-memcached's", ["php-memcached"], () => {
  const servers = [1, 2, 3, 4, 5].map((i) => `127.0.0.${i}:11211`);
  const keys = KEYS.slice(0, 3000);

  test("OPT_LIBKETAMA_COMPATIBLE is { ketama_weighted: true }", async () => {
    const php = phpPlaces(servers, keys);
    await using client = new Client(servers, { behaviors: { ketama_weighted: true } });
    const wrong = keys.filter((key) => client.serverFor(key) !== php[key]);
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${keys.length} placed differently`);
  });

  test("{ ketama: true } is pylibmc's ketama, not that option", async () => {
    const php = phpPlaces(servers, keys);
    await using client = new Client(servers, { behaviors: { ketama: true } });
    const same = keys.filter((key) => client.serverFor(key) === php[key]).length;
    assert.ok(same < keys.length / 2, `${same} of ${keys.length} on the same server`);
  });
});
