/**
 * Where a Deno process's memory goes under a long mixed load: `deno task
 * memory [N]` runs N operations (1,000,000 by default) from 50 concurrent
 * tasks (set, get, getMulti of 3, incr with an initial value, delete, one
 * fifth each) against a memcached started here, twice: with V8's defaults,
 * and with its young generation held to 1 MiB per semi-space
 * (`--max-semi-space-size=1`), which changes nothing but how large V8 lets
 * that generation grow. For each it prints, at every tenth of the run, the
 * RSS and V8's new and old spaces; at the end the peak RSS and the heap
 * still live after a full collection. A third run, with the defaults,
 * samples every allocation (V8's sampling heap profiler, through
 * `node:inspector`): it prints the functions that allocate most, per
 * operation, and writes the profile, which Chrome DevTools opens, to a
 * temporary file.
 *
 * Run: deno task memory [N]
 */
import { execFile } from "node:child_process";
import { Session } from "node:inspector";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import { Client } from "../mod.ts";
import { startMemcached } from "../tests/memcached.ts";
import { peakRssMiB } from "./scenarios.ts";

const TASKS = 50;
/** The repository's folder, as profiles name files. */
const ROOT = new URL("../", import.meta.url).href;
const VALUE = "v".repeat(100);

/** Memory at one point of a run, in MiB. */
interface Sample {
  operations: number;
  rss: number;
  newSpace: number;
  oldSpace: number;
  heapUsed: number;
}

/** What a child run reports. */
interface Report {
  samples: Sample[];
  /** Operations per second. */
  rate: number;
  peakRss: number;
  liveAfterGc: number;
  allocated?: { perOperation: number; top: [string, number][]; file: string };
}

const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

function sample(operations: number): Sample {
  const spaces = new Map(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
  const usage = process.memoryUsage();
  return {
    operations,
    rss: mib(usage.rss),
    newSpace: mib(spaces.get("new_space") ?? 0),
    oldSpace: mib(spaces.get("old_space") ?? 0),
    heapUsed: mib(usage.heapUsed),
  };
}

/** Runs `total` mixed operations from {@linkcode TASKS} tasks, sampling every tenth. */
async function load(client: Client, total: number, samples?: Sample[]): Promise<void> {
  let done = 0;
  const every = Math.ceil(total / 10);
  await Promise.all(Array.from({ length: TASKS }, async (_, task) => {
    for (let i = task; done < total; i += TASKS) {
      const key = `memory:${i % 1000}`;
      switch (i % 5) {
        case 0:
          await client.set(key, VALUE);
          break;
        case 1:
          await client.get(key);
          break;
        case 2:
          await client.getMulti([key, `memory:${(i + 1) % 1000}`, `memory:${(i + 2) % 1000}`]);
          break;
        case 3:
          await client.incr(`memory:n${i % 10}`, 1, { initial: 0 });
          break;
        default:
          await client.delete(key);
      }
      if (++done % every === 0) samples?.push(sample(done));
    }
  }));
}

/**
 * Each function's own bytes in a sampling heap profile, largest first. The
 * profile's line numbers are the runtime's compiled JavaScript's, not the
 * source's, so functions are named by name and file alone.
 */
function bytesByFunction(profile: SamplingNode): [string, number][] {
  const bytes = new Map<string, number>();
  const visit = (node: SamplingNode) => {
    const { functionName, url } = node.callFrame;
    const file = url.startsWith(ROOT) ? url.slice(ROOT.length) : url;
    const where = `${functionName || "(anonymous)"} ${file || "(native)"}`;
    bytes.set(where, (bytes.get(where) ?? 0) + node.selfSize);
    node.children.forEach(visit);
  };
  visit(profile);
  return [...bytes].sort((a, b) => b[1] - a[1]);
}

interface SamplingNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: SamplingNode[];
}

/** A child run: loads `server`, profiling allocations when asked; prints a Report. */
async function child(server: string, total: number, profile: boolean): Promise<void> {
  const client = new Client(server);
  const session = new Session();
  const post = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (err, result) => err ? reject(err) : resolve(result))
    );
  if (profile) {
    session.connect();
    await post("HeapProfiler.enable");
    await post("HeapProfiler.startSampling", {
      samplingInterval: 16 * 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
  const samples: Sample[] = [];
  const started = performance.now();
  await load(client, total, samples);
  const rate = Math.round(total / ((performance.now() - started) / 1000));
  const report: Report = { samples, rate, peakRss: peakRssMiB(), liveAfterGc: 0 };
  if (profile) {
    const { profile: head } = await post("HeapProfiler.stopSampling") as {
      profile: { head: SamplingNode };
    };
    const file = join(mkdtempSync(join(tmpdir(), "memory-")), "mixed.heapprofile");
    writeFileSync(file, JSON.stringify(head));
    const sites = bytesByFunction(head.head);
    const all = sites.reduce((sum, [, n]) => sum + n, 0);
    report.allocated = {
      perOperation: Math.round(all / total),
      top: sites.slice(0, 12).map(([where, n]) => [where, Math.round(n / total)]),
      file,
    };
    session.disconnect();
  }
  client.close();
  (globalThis as { gc?: () => void }).gc?.();
  report.liveAfterGc = mib(process.memoryUsage().heapUsed);
  console.log(JSON.stringify(report));
}

function run(server: string, total: number, flags: string, profile: boolean): Promise<Report> {
  const args = [
    "run",
    "-A",
    `--v8-flags=--expose-gc${flags}`,
    fileURLToPath(import.meta.url),
    "--child",
    server,
    String(total),
    profile ? "profile" : "",
  ];
  return new Promise((resolve, reject) =>
    execFile("deno", args, { maxBuffer: 1 << 24, timeout: 600_000 }, (err, stdout) => {
      if (err) return reject(err);
      resolve(JSON.parse(stdout.trim().split("\n").at(-1)!));
    })
  );
}

function show(title: string, report: Report): void {
  console.log(
    `\n${title}: ${report.rate.toLocaleString("en-US")} operations/s, peak RSS ` +
      `${report.peakRss} MiB, live heap after a full collection ${report.liveAfterGc} MiB`,
  );
  console.log("| operations | RSS (MiB) | new space | old space | heap used |");
  console.log("| ---: | ---: | ---: | ---: | ---: |");
  for (const s of report.samples) {
    console.log(
      `| ${
        s.operations.toLocaleString("en-US")
      } | ${s.rss} | ${s.newSpace} | ${s.oldSpace} | ${s.heapUsed} |`,
    );
  }
}

if (process.argv[2] === "--child") {
  await child(process.argv[3], Number(process.argv[4]), process.argv[5] === "profile");
} else {
  const total = Number(process.argv[2] ?? 1_000_000);
  const memcached = await startMemcached({ args: ["-m", "256"] });
  try {
    const defaults = await run(memcached.server, total, "", false);
    const held = await run(memcached.server, total, ",--max-semi-space-size=1", false);
    // Its own run: the profiler's records take memory and time of their own.
    const profiled = await run(memcached.server, total, "", true);
    show("V8's defaults", defaults);
    show("Young generation held to 1 MiB per semi-space", held);
    const allocated = profiled.allocated!;
    console.log(
      `\nAllocated per operation (sampled, collected objects included): ${allocated.perOperation} bytes; ` +
        `most by:`,
    );
    for (const [where, bytes] of allocated.top) {
      console.log(`  ${String(bytes).padStart(5)} B  ${where}`);
    }
    console.log(`Profile: ${allocated.file}`);
  } finally {
    await memcached.stop();
  }
}
