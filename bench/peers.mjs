// Runs one scenario with a JavaScript peer (memjs, memcached or
// memcache-client) on Node or Bun and prints { "ops": N, "rssMiB": M }.
//
// Usage: node peers.mjs LIBRARY SERVER SCENARIO SECONDS
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const [library, server, scenario, seconds] = process.argv.slice(2);
const KEYS = Array.from({ length: 1000 }, (_, i) => `bench:${i}`);
const SMALL = "v".repeat(100);
// Only the large-value scenarios hold a large value (see client.ts).
const big = scenario === "64k"
  ? "x".repeat(64 * 1024)
  : scenario === "1m"
  ? "x".repeat(1024 * 1024 - 1024)
  : "";

/** get, set, getMulti and close, the same shape for every library. */
function open() {
  if (library === "memjs") {
    const client = require("memjs").Client.create(server, { timeout: 10, retries: 0 });
    return {
      get: (key) => client.get(key),
      set: (key, value) => client.set(key, value, { expires: 0 }),
      getMulti: (keys) => client.getMulti(keys),
      close: () => client.close(),
    };
  }
  if (library === "memcached") {
    const Memcached = require("memcached");
    const client = new Memcached(server, { maxValue: 2 << 20, poolSize: 10 });
    const call = (method, ...args) =>
      new Promise((resolve, reject) =>
        client[method](...args, (err, value) => err ? reject(err) : resolve(value))
      );
    return {
      get: (key) => call("get", key),
      set: (key, value) => call("set", key, value, 0),
      getMulti: (keys) => call("getMulti", keys),
      close: () => client.end(),
    };
  }
  const { MemcacheClient } = require("memcache-client");
  const client = new MemcacheClient({ server, cmdTimeout: 10_000 });
  return {
    get: (key) => client.get(key),
    set: (key, value) => client.set(key, value),
    getMulti: (keys) => client.get(keys),
    close: () => client.shutdown(),
  };
}

const client = open();
let i = 0;
const next = () => KEYS[i++ % KEYS.length];
async function work() {
  switch (scenario) {
    case "sequential": {
      const key = next();
      await client.set(key, SMALL);
      await client.get(key);
      return 2;
    }
    case "inflight":
      await Promise.all(Array.from({ length: 100 }, () => client.get(next())));
      return 100;
    case "multi": {
      const start = (i += 100) % 900;
      await client.getMulti(KEYS.slice(start, start + 100));
      return 100;
    }
    default:
      await client.set("bench:big", big);
      await client.get("bench:big");
      return 2;
  }
}

const warmUntil = performance.now() + 200;
while (performance.now() < warmUntil) await work();
let count = 0;
const started = performance.now();
const until = started + Number(seconds) * 1000;
while (performance.now() < until) count += await work();
const ops = count / ((performance.now() - started) / 1000);
client.close();
const peak = Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]);
console.log(JSON.stringify({ ops, rssMiB: Math.round(peak / 1024) }));
process.exit(0);
