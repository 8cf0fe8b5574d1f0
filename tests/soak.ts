/**
 * A bounded soak: many tasks run mixed operations at once over several
 * connections and two servers, with random aborts and tiny timeouts, while a
 * model tracks what each key may hold. Every value read must be one the
 * model allows (so no acknowledged write is lost and no reply reaches the
 * wrong caller), and memory and open sockets must stay flat.
 *
 * `deno task soak` runs 200,000 operations (`deno task soak N`, N of them);
 * soak_test.ts a short run.
 *
 * @module
 */
import process from "node:process";
import { Client, type SomeErrors } from "../mod.ts";
import { random } from "./fuzz.ts";
import { raw, startMemcached } from "./memcached.ts";

/** How a soak went. */
export interface SoakReport {
  operations: number;
  failures: number;
  aborted: number;
  timedOut: number;
  wrongValues: string[];
  failureNames: Set<string>;
  /** RSS growth from a fifth of the way in (past warm-up) to the end, in MiB. */
  rssGrowthMiB: number;
  /** RSS in MiB at each tenth of the run (after a collection where `gc` is exposed). */
  rssSamplesMiB: number[];
  /**
   * JavaScript heap growth over the same span, in MiB: unlike RSS, it is this
   * isolate's alone when other tests run in the same process.
   */
  heapGrowthMiB: number;
  /** Connections the servers saw open before the run, and after the client closed. */
  openBefore: number;
  openAfter: number;
  seconds: number;
}

/**
 * What an error comes down to: for SomeErrors from a multi-key call cut short
 * by its own abort or timeout, the name shared by all its per-key errors.
 */
function cause(err: unknown): string {
  const name = (err as Error).name;
  if (name !== "SomeErrors") return name;
  const names = new Set([...(err as SomeErrors).errors.values()].map((e) => e.name));
  return names.size === 1
    ? [...names][0]
    : `${name}(${
      [...(err as SomeErrors).errors.values()].map((e) => e.name + ": " + e.message).join("; ")
    })`;
}

/** The resident set size, after a garbage collection where the runtime exposes one. */
function sampleRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

/** The connections the servers have open, not counting the ones made to ask. */
async function openConnections(servers: string[]): Promise<number> {
  let open = 0;
  for (const server of servers) {
    open += Number(/STAT curr_connections (\d+)/.exec(await raw(server, "stats\r\n"))![1]) - 1;
  }
  return open;
}

/** Runs `operations` mixed operations from `tasks` concurrent tasks, at most `seconds` long. */
export async function soak(
  { operations, tasks = 50, seconds = 120, seed = 1 }: {
    operations: number;
    tasks?: number;
    seconds?: number;
    seed?: number;
  },
): Promise<SoakReport> {
  const servers = await Promise.all([1, 2].map(() => startMemcached({ args: ["-m", "256"] })));
  const names = servers.map((s) => s.server);
  const openBefore = await openConnections(names);
  const client = new Client(servers.map((s) => s.server), {
    maxConnections: 3,
    timeout: 2000,
    behaviors: { ketama: true, retry_timeout: 0 },
  });
  const report: SoakReport = {
    operations: 0,
    failures: 0,
    aborted: 0,
    timedOut: 0,
    wrongValues: [],
    failureNames: new Set(),
    rssGrowthMiB: 0,
    rssSamplesMiB: [],
    heapGrowthMiB: 0,
    openBefore,
    openAfter: 0,
    seconds: 0,
  };
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let rssStart = 0;
  let heapStart = 0;
  try {
    const perTask = Math.ceil(operations / tasks);
    await Promise.all(Array.from({ length: tasks }, async (_, task) => {
      const rnd = random(seed * 1000 + task);
      const keys = Array.from({ length: 20 }, (_, i) => `soak:${task}:${i}`);
      // What each key may hold: the last acknowledged value, plus any value
      // of a write whose outcome is unknown (aborted, timed out, failed).
      const possible = new Map<string, Set<string | undefined>>(
        keys.map((key) => [key, new Set([undefined])]),
      );
      let version = 0;
      for (let n = 0; n < perTask && performance.now() < deadline; n++) {
        if (task === 0 && n % Math.ceil(perTask / 10) === 0 && n > 0) {
          const rss = sampleRss();
          report.rssSamplesMiB.push(Math.round(rss / 2 ** 20));
          if (report.rssSamplesMiB.length === 2) {
            rssStart = rss;
            heapStart = process.memoryUsage().heapUsed;
          }
        }
        report.operations++;
        const key = keys[Math.floor(rnd() * keys.length)];
        const controller = new AbortController();
        const roll = rnd();
        const options = roll < 0.03
          ? { timeout: 1 }
          : roll < 0.08
          ? { signal: controller.signal }
          : {};
        if ("signal" in options) setTimeout(() => controller.abort(), rnd() * 2);
        const pick = rnd();
        try {
          if (pick < 0.4) {
            const value = await client.get<string>(key, options);
            if (!possible.get(key)!.has(value)) {
              report.wrongValues.push(`${key}: ${value}`);
            }
          } else if (pick < 0.5) {
            const chosen = keys.slice(0, 5);
            const hits = await client.getMulti<string>(chosen, options);
            for (const k of chosen) {
              if (!possible.get(k)!.has(hits.get(k))) {
                report.wrongValues.push(`${k}: ${hits.get(k)}`);
              }
            }
          } else if (pick < 0.9) {
            const value = `${key}=${++version}`;
            possible.get(key)!.add(value);
            await client.set(key, value, options);
            possible.set(key, new Set([value]));
          } else {
            possible.get(key)!.add(undefined);
            await client.delete(key, options);
            possible.set(key, new Set([undefined]));
          }
        } catch (err) {
          const name = cause(err);
          if (name === "AbortError") report.aborted++;
          else if (name === "Timeout") report.timedOut++;
          else report.failures++, report.failureNames.add(name);
        }
      }
    }));
  } finally {
    report.rssGrowthMiB = Math.round((sampleRss() - rssStart) / 2 ** 20);
    report.heapGrowthMiB = Math.round((process.memoryUsage().heapUsed - heapStart) / 2 ** 20);
    client.close();
    // The servers see a close a moment after it happens.
    for (let wait = 0; wait < 20 && await openConnections(names) > openBefore; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    report.openAfter = await openConnections(names);
    report.seconds = Math.round(performance.now() - started) / 1000;
    await Promise.all(servers.map((s) => s.stop()));
  }
  return report;
}

if ((import.meta as { main?: boolean }).main) {
  // `deno task soak 1000000` runs a million operations.
  const operations = Number(process.argv[2] ?? 200_000);
  const report = await soak({ operations, seconds: 600 });
  console.log(JSON.stringify({ ...report, failureNames: [...report.failureNames] }, null, 2));
  if (report.wrongValues.length || report.openAfter > report.openBefore) process.exit(1);
}
