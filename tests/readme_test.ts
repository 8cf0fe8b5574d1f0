/**
 * The README's code blocks are tests, so that they cannot drift from the
 * client: every `ts` and `js` block is type-checked (with `deno check`),
 * and a block whose servers are all this machine's runs against a local
 * memcached, `ts` with Deno and `js` on the runtime running the suite
 * (Node runs the Node 20/22 forms). A block naming any other host is only
 * checked: tests send traffic to loopback and nowhere else.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { after, before, test } from "node:test";
import { type Memcached, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

const here = dirname(fileURLToPath(import.meta.url));
/** The repository: on Node the suite runs compiled under build/node. */
let root = here;
while (!existsSync(join(root, "deno.json"))) root = dirname(root);
const g = globalThis as { Deno?: { execPath(): string }; Bun?: unknown };
const deno = g.Deno ? g.Deno.execPath() : join(root, "node_modules/.bin/deno");
const compiled = here !== join(root, "tests");
/** What a `js` block imports: the sources, or on Node the compiled package. */
const jsModule = pathToFileURL(join(here, compiled ? "../mod.js" : "../mod.ts")).href;
const tsModule = pathToFileURL(join(root, "mod.ts")).href;

interface Block {
  lang: "ts" | "js";
  line: number;
  code: string;
}

/** The README's `ts` and `js` blocks, with the line each starts on. */
function blocks(): Block[] {
  const text = readFileSync(join(root, "README.md"), "utf8");
  const found: Block[] = [];
  for (const match of text.matchAll(/^```(ts|js)\n([\s\S]*?)^```$/gm)) {
    const line = text.slice(0, match.index).split("\n").length;
    found.push({ lang: match[1] as "ts" | "js", line, code: match[2] });
  }
  return found;
}

/** The server entries of every `new Client(…)` in a block. */
function servers(code: string): string[] {
  const entries: string[] = [];
  for (const [, first] of code.matchAll(/new Client\(\s*(\[[^\]]*\]|"[^"]*")/g)) {
    for (const [, entry] of first.matchAll(/"([^"]*)"/g)) entries.push(entry);
  }
  return entries;
}

const LOCAL = /^(127\.0\.0\.1|localhost):11211$/;

/** Runs `command` and resolves with its output, or rejects with what it printed. */
function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${command} ${args.join(" ")}: ${err.message}\n${stdout}${stderr}`));
      } else resolve(stdout);
    });
  });
}

suite("README", ["memcached"], () => {
  const all = blocks();
  let server: Memcached;
  let dir: string;
  const file = (block: Block) =>
    join(dir, `readme_${block.line}.${block.lang === "js" ? "mjs" : "ts"}`);

  before(async () => {
    server = await startMemcached();
    dir = mkdtempSync(join(tmpdir(), "readme-"));
    for (const block of all) {
      const module = block.lang === "ts" ? tsModule : jsModule;
      const code = block.code
        .replaceAll(/"(jsr:)?@seed\/memcached"/g, JSON.stringify(module))
        .replaceAll(/"(127\.0\.0\.1|localhost):11211"/g, JSON.stringify(server.server));
      writeFileSync(file(block), (block.lang === "js" ? "// @ts-check\n" : "") + code);
    }
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await server?.stop();
  });

  test("has ts blocks and a js block for Node 20 and 22", () => {
    assert.ok(all.filter((b) => b.lang === "ts").length >= 8);
    assert.ok(all.some((b) => b.lang === "js" && b.code.includes("finally")));
  });

  test("every block type-checks", async () => {
    await run(deno, ["check", "--config", join(root, "deno.json"), ...all.map(file)], dir);
  });

  for (const block of blocks()) {
    const local = servers(block.code).every((entry) => LOCAL.test(entry));
    const where = `the ${block.lang} block at README.md:${block.line}`;
    if (!local) {
      test(`${where} names other hosts: it is only type-checked`, () => {
        assert.ok(servers(block.code).some((entry) => !LOCAL.test(entry)));
      });
      continue;
    }
    test(`${where} runs against a local memcached`, async () => {
      if (block.lang === "ts") {
        await run(deno, ["run", "-A", "--config", join(root, "deno.json"), file(block)], dir);
      } else {
        await run(process.execPath, g.Deno ? ["run", "-A", file(block)] : [file(block)], dir);
      }
    });
  }
});
