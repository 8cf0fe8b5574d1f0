/**
 * Runs one scenario with this client (on Deno or Bun) and prints
 * `{ "ops": N, "rssMiB": M }`: operations (or keys) per second, and the
 * process's peak RSS.
 *
 * Usage: client.ts SERVER SCENARIO SECONDS
 */
import process from "node:process";
import { Client } from "../mod.ts";
import { KEYS, measure, ONE_MIB, peakRssMiB, type Scenario, SMALL } from "./scenarios.ts";

const [server, scenario, seconds] = process.argv.slice(2) as [string, Scenario, string];
const client = new Client(server, { maxValueSize: 2 << 20, timeout: 10_000 });
// Only the large-value scenarios hold a large value: on Bun a 1 MiB string
// is a megabyte of every other scenario's peak RSS.
const big = scenario === "64k"
  ? "x".repeat(64 * 1024)
  : scenario === "1m"
  ? "x".repeat(ONE_MIB)
  : "";

let i = 0;
const next = () => KEYS[i++ % KEYS.length];
const ops = await measure(Number(seconds), async () => {
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
console.log(JSON.stringify({ ops, rssMiB: peakRssMiB() }));
