/**
 * An idle client does not keep the process alive: a script that forgets
 * `close()` exits right after its last reply, on the runtime running the
 * tests (Deno, Bun, or Node with the suite compiled).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

const here = dirname(fileURLToPath(import.meta.url));
// On Node the suite runs compiled under build/node: the fixture is compiled beside it.
const compiled = !existsSync(join(here, "fixtures/forgets_close.ts"));
const fixture = join(here, compiled ? "fixtures/forgets_close.js" : "fixtures/forgets_close.ts");
const g = globalThis as { Deno?: unknown; Bun?: unknown };
const args = g.Deno !== undefined ? ["run", "-A", fixture] : [fixture];
const runtime = g.Deno !== undefined ? "Deno" : g.Bun !== undefined ? "Bun" : "Node";

/** Milliseconds from the fixture's last output to its exit; it is killed after `limit`. */
function lingering(server: string, limit: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args, server], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let printed = 0;
    const killer = setTimeout(() => child.kill("SIGKILL"), limit);
    child.stdout!.on("data", (chunk) => {
      out += String(chunk);
      printed = Date.now();
    });
    child.stderr!.on("data", (chunk) => err += String(chunk));
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      clearTimeout(killer);
      if (out.trim() !== "soon") return reject(new Error(`fixture said ${out}${err}`));
      if (signal) return reject(new Error(`still running ${limit} ms after its last reply`));
      if (code !== 0) return reject(new Error(`fixture exited with ${code}: ${err}`));
      resolve(Date.now() - printed);
    });
  });
}

suite(`a script on ${runtime}`, ["memcached"], () => {
  test("that forgets close() exits right after its last reply", async () => {
    const server = await startMemcached();
    try {
      const ms = await lingering(server.server, 15_000);
      assert.ok(ms < 5000, `exited ${ms} ms after its last reply`);
    } finally {
      await server.stop();
    }
  });
});
