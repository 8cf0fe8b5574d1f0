/**
 * Runs one scenario with this client (on Deno or Bun) and prints
 * `{ "ops": N, "rssMiB": M }`: operations (or keys) per second, and the
 * process's peak RSS.
 *
 * Usage: client.ts SERVER SCENARIO SECONDS
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { Client } from "../mod.ts";
import { KEYS, ONE_MIB, type Scenario, SMALL } from "./scenarios.ts";

const [server, scenario, seconds] = process.argv.slice(2) as [string, Scenario, string];
const client = new Client(server, { maxValueSize: 2 << 20, timeout: 10_000 });
const big = scenario === "64k" ? "x".repeat(64 * 1024) : "x".repeat(ONE_MIB);

/** Runs `work` (which returns how many operations it did) until the time is up. */
async function measure(work: () => Promise<number>): Promise<number> {
  const warmUntil = performance.now() + 200;
  while (performance.now() < warmUntil) await work();
  let count = 0;
  const started = performance.now();
  const until = started + Number(seconds) * 1000;
  while (performance.now() < until) count += await work();
  return count / ((performance.now() - started) / 1000);
}

let i = 0;
const next = () => KEYS[i++ % KEYS.length];
const ops = await measure(async () => {
  switch (scenario) {
    case "sequential": {
      const key = next();
      await client.set(key, SMALL);
      await client.get(key);
      return 2;
    }
    case "inflight": {
      await Promise.all(Array.from({ length: 100 }, () => client.get(next())));
      return 100;
    }
    case "multi": {
      const start = (i += 100) % 900;
      await client.getMulti(KEYS.slice(start, start + 100));
      return 100;
    }
    default: {
      await client.set("bench:big", big);
      await client.get("bench:big");
      return 2;
    }
  }
});
client.close();
const peak = Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]);
console.log(JSON.stringify({ ops, rssMiB: Math.round(peak / 1024) }));
