/**
 * `deno task bench`: this client on Deno and Bun, memjs, memcached and
 * memcache-client on Node and Bun, pylibmc, and bare sockets (writing pre-encoded
 * bytes; and, for getMulti and the large values, strings each way), side by side
 * against one memcached (`-t 2`) started here, the runners interleaved.
 * Prints one table of medians over 3 rounds, each as a ratio to this client
 * on Deno. `--quick` runs one short round; `--against DIR` adds this client
 * as checked out in DIR.
 */
import { execFile, execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { Client } from "../mod.ts";
import { startMemcached } from "../tests/memcached.ts";
import { KEYS, type Scenario, SCENARIOS, SMALL } from "./scenarios.ts";
import { type Bar, barChart, type Group } from "./chart.ts";

const quick = process.argv.includes("--quick");
const rounds = quick ? 1 : 3;
const seconds = quick ? "0.3" : "1";
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

interface Runner {
  name: string;
  runtime: string;
  command(server: string, scenario: Scenario): string[];
}

/**
 * `--against DIR`: this client as checked out in DIR (another commit's
 * tree) runs too, on Deno and Bun, so that a change is measured against
 * what came before in the same run.
 */
const against = process.argv.includes("--against")
  ? process.argv[process.argv.indexOf("--against") + 1]
  : undefined;
const earlier: Runner[] = against === undefined ? [] : ["Deno", "Bun"].map((runtime) => ({
  name: `@seed/memcached at ${against}`,
  runtime,
  command: (s: string, c: Scenario) => {
    const client = `${against}/bench/client.ts`;
    return runtime === "Deno"
      ? ["deno", "run", "-A", client, s, c, seconds]
      : ["bun", client, s, c, seconds];
  },
}));

const peers = ["memjs", "memcached", "memcache-client"];
const runners: Runner[] = [
  {
    name: "@seed/memcached",
    runtime: "Deno",
    command: (s, c) => ["deno", "run", "-A", here("client.ts"), s, c, seconds],
  },
  {
    name: "@seed/memcached",
    runtime: "Bun",
    command: (s, c) => ["bun", here("client.ts"), s, c, seconds],
  },
  ...earlier,
  ...peers.flatMap((peer) =>
    ["node", "bun"].map((runtime) => ({
      name: peer,
      runtime: runtime === "node" ? "Node" : "Bun",
      command: (s: string, c: Scenario) => [runtime, here("peers.mjs"), peer, s, c, seconds],
    }))
  ),
  {
    name: "pylibmc",
    runtime: "Python",
    command: (s, c) => ["/usr/bin/python3", here("pylibmc_bench.py"), s, c, seconds],
  },
  {
    name: "bare socket (ceiling)",
    runtime: "Deno",
    command: (s, c) => ["deno", "run", "-A", here("raw.ts"), s, c, seconds],
  },
  {
    name: "bare socket (ceiling)",
    runtime: "Bun",
    command: (s, c) => ["bun", here("raw_bun.ts"), s, c, seconds],
  },
  // Scenarios 3, 4 and 5 only: values as strings, encoded into each set and
  // read from each reply, the ceiling for a client that takes and returns text.
  {
    name: "bare socket, strings",
    runtime: "Deno",
    command: (s, c) => ["deno", "run", "-A", here("raw.ts"), s, c, seconds, "text"],
  },
  {
    name: "bare socket, strings",
    runtime: "Bun",
    command: (s, c) => ["bun", here("raw_bun.ts"), s, c, seconds, "text"],
  },
];

function run(command: string[]): Promise<{ ops: number | null; rssMiB: number | null }> {
  return new Promise((resolve) =>
    execFile(command[0], command.slice(1), { timeout: 120_000 }, (err, stdout) => {
      if (err) return resolve({ ops: null, rssMiB: null });
      try {
        resolve(JSON.parse(stdout.trim().split("\n").at(-1)!));
      } catch {
        resolve({ ops: null, rssMiB: null });
      }
    })
  );
}

/** The machine and the versions a run was measured on, for the chart. */
function machine(memcached: string): string {
  const cpu = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "?";
  const cores = readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm)?.length ?? 0;
  const version = (command: string[]) => {
    try {
      return execFileSync(command[0], command.slice(1), { encoding: "utf8" }).split("\n")[0].trim();
    } catch {
      return "?";
    }
  };
  return [
    `${cpu.trim()}, ${cores} cores`,
    `memcached ${memcached}`,
    version(["deno", "--version"]).replace(/ \(.*/, ""),
    `Bun ${version(["bun", "--version"])}`,
    `Node ${version(["node", "--version"])}`,
    version(["/usr/bin/python3", "--version"]),
    new Date().toISOString().slice(0, 10),
  ].join(" · ");
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN;
};

const server = await startMemcached({ args: ["-m", "1024"] });
const seeder = new Client(server.server);
/**
 * Writes the small keys again before each run: the one-at-a-time scenario
 * rewrites them with each client's own flags (raw bytes for most), and
 * every runner must read the same items (text, flags 16), whichever ran
 * before it.
 */
const seed = () => seeder.setMulti(KEYS.map((key) => [key, SMALL] as const));
try {
  const ops = new Map<Runner, Map<Scenario, number[]>>();
  const rss = new Map<Runner, Map<Scenario, number>>();
  for (let round = 1; round <= rounds; round++) {
    for (const [scenario] of SCENARIOS) {
      for (const runner of runners) {
        await seed();
        const result = await run(runner.command(server.server, scenario));
        if (result.ops !== null) {
          ops.set(runner, ops.get(runner) ?? new Map());
          ops.get(runner)!.set(scenario, [...(ops.get(runner)!.get(scenario) ?? []), result.ops]);
          rss.set(runner, rss.get(runner) ?? new Map());
          rss.get(runner)!.set(
            scenario,
            Math.max(rss.get(runner)!.get(scenario) ?? 0, result.rssMiB!),
          );
        }
        process.stderr.write(".");
      }
    }
  }
  process.stderr.write("\n");
  const base = ops.get(runners[0])!;
  const header = ["client", "runtime", ...SCENARIOS.map(([, title]) => title), "peak RSS, 2 (MiB)"];
  const lines = [header, header.map(() => "---")];
  for (const runner of runners) {
    const mine = ops.get(runner);
    const cells = SCENARIOS.map(([scenario]) => {
      const values = mine?.get(scenario);
      if (!values?.length) return "n/a";
      const value = median(values);
      const ratio = value / median(base.get(scenario) ?? []);
      return `${Math.round(value).toLocaleString("en-US")} (${ratio.toFixed(2)}×)`;
    });
    lines.push([
      runner.name,
      runner.runtime,
      ...cells,
      String(rss.get(runner)?.get("inflight") ?? "n/a"),
    ]);
  }
  const memcached = (await seeder.version()).values().next().value;
  console.log(
    `memcached ${memcached}, ` +
      `${rounds} round(s) of ${seconds} s per scenario, medians; ratios to @seed/memcached on Deno`,
  );
  console.log(lines.map((cells) => `| ${cells.join(" | ")} |`).join("\n"));
  const result = (runner: Runner | undefined, scenario: Scenario) => {
    const values = runner && ops.get(runner)?.get(scenario);
    return values?.length ? median(values) : undefined;
  };
  const find = (name: string, runtime: string) =>
    runners.find((r) => r.name === name && r.runtime === runtime);
  const groups: Group[] = SCENARIOS.map(([scenario, title]) => {
    const bare = result(find("bare socket (ceiling)", "Deno"), scenario);
    const reference = bare ?? result(find("pylibmc", "Python"), scenario);
    const ratio = (value: number | undefined) =>
      value === undefined || reference === undefined ? undefined : value / reference;
    const peers = runners.filter((r) => !r.name.startsWith("@seed") && !r.name.startsWith("bare"))
      .filter((r) => r.name !== "pylibmc");
    const best = peers.map((r) => ({ r, v: result(r, scenario) }))
      .filter((x) => x.v !== undefined)
      .sort((a, b) => b.v! - a.v!)[0];
    const bars: Bar[] = [
      { label: "@seed/memcached, Deno", ratio: ratio(result(runners[0], scenario)) },
      { label: "@seed/memcached, Bun", ratio: ratio(result(runners[1], scenario)) },
      {
        label: "best JavaScript peer",
        ratio: ratio(best?.v),
      },
      { label: "pylibmc", ratio: ratio(result(find("pylibmc", "Python"), scenario)) },
      { label: "bare socket, Deno", ratio: ratio(bare) },
      {
        label: "bare socket, Bun",
        ratio: ratio(result(find("bare socket (ceiling)", "Bun"), scenario)),
      },
      ...["Deno", "Bun"].map((runtime) => ({
        label: `bare socket, strings, ${runtime}`,
        ratio: ratio(result(find("bare socket, strings", runtime), scenario)),
      })).filter((bar) => bar.ratio !== undefined),
    ];
    return {
      title: `${title}${best ? ` (best peer: ${best.r.name} on ${best.r.runtime})` : ""}`,
      reference: bare !== undefined ? "the bare socket on Deno" : "pylibmc",
      bars,
    };
  });
  writeFileSync(here("results.svg"), barChart(groups, machine(String(memcached))));
  console.log("chart: bench/results.svg");
} finally {
  seeder.close();
  await server.stop();
}
