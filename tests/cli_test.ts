/**
 * The command line against a real memcached: each command's output, JSON
 * output, exit codes, error classes in messages, and the progress bar.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { main } from "../cli.ts";
import { runtime } from "../transport/mod.ts";
import { type Memcached, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

/** Runs the command line in this process; returns its exit code and output. */
async function cli(args: string[], env: Record<string, string> = {}, terminal = false) {
  const out: Uint8Array[] = [];
  let err = "";
  const code = await main({
    args,
    env: (name) => env[name],
    stdout: (chunk) =>
      out.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk),
    stderr: (text) => err += text,
    terminal,
  });
  const bytes = new Uint8Array(out.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of out) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return { code, out: new TextDecoder().decode(bytes), bytes, err };
}

suite("command line", ["memcached"], () => {
  let server: Memcached;
  let dir: string;
  const on = (...args: string[]) => cli([...args, "--servers", server.server]);

  before(async () => {
    server = await startMemcached();
    dir = mkdtempSync(join(tmpdir(), "cli-test-"));
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("set then get prints the value; exit code 0", async () => {
    assert.equal((await on("set", "greeting", "hello")).code, 0);
    const got = await on("get", "greeting");
    assert.deepEqual([got.code, got.out], [0, "hello\n"]);
  });

  test("a miss is exit code 1 and named on stderr", async () => {
    const got = await on("get", "never-set");
    assert.equal(got.code, 1);
    assert.equal(got.out, "");
    assert.match(got.err, /miss: never-set/);
  });

  test("--json prints hits and misses, bytes as base64", async () => {
    writeFileSync(join(dir, "blob"), new Uint8Array([0, 1, 2, 255]));
    assert.equal((await on("set", "blob", "--file", join(dir, "blob"))).code, 0);
    const got = await on("get", "greeting", "blob", "never-set", "--json");
    assert.deepEqual(JSON.parse(got.out), {
      greeting: "hello",
      blob: { base64: "AAEC/w==" },
      "never-set": null,
    });
    assert.equal(got.code, 1);
  });

  test("a file's bytes are stored and printed as they are, with nothing added", async () => {
    const got = await on("get", "blob");
    assert.deepEqual([...got.bytes], [0, 1, 2, 255]);
  });

  test("incr and decr print the new value; a missing counter is NotFound, exit code 1", async () => {
    await on("set", "hits", "10");
    assert.equal((await on("incr", "hits", "5")).out, "15\n");
    assert.equal((await on("decr", "hits")).out, "14\n");
    const missing = await on("incr", "no-counter");
    assert.equal(missing.code, 1);
    assert.match(missing.err, /NotFound: incr "no-counter" on .*: NOT_FOUND/);
  });

  test("delete and touch say whether the key was there", async () => {
    await on("set", "gone", "x");
    assert.equal((await on("touch", "gone", "100")).code, 0);
    assert.equal((await on("delete", "gone")).code, 0);
    assert.equal((await on("delete", "gone")).code, 1);
    assert.equal((await on("touch", "gone", "100")).code, 1);
  });

  test("cp stores files under their names and draws a progress bar", async () => {
    const files = ["a.txt", "b.txt", "c.txt"].map((name) => {
      writeFileSync(join(dir, name), `content of ${name}`);
      return join(dir, name);
    });
    const got = await cli(
      ["cp", ...files, "--prefix", "files/", "--servers", server.server],
      {},
      true,
    );
    assert.equal(got.code, 0);
    assert.match(got.out, /stored 3 of 3 files/);
    assert.match(got.err, /\[#+\] 3\/3 files/);
    assert.equal((await on("get", "files/b.txt")).out, "content of b.txt");
  });

  test("cp without a terminal draws no bar unless --progress", async () => {
    const file = join(dir, "a.txt");
    assert.equal((await on("cp", file, file)).err, "");
    assert.match((await on("cp", file, "--progress")).err, /1\/1 files/);
  });

  test("stats, version, ping and dump report every server", async () => {
    const stats = JSON.parse((await on("stats", "--json")).out);
    assert.ok(Number(stats[server.server].pid) > 0);
    assert.match((await on("version")).out, new RegExp(`^${server.server} \\d+\\.\\d+`));
    const ping = await on("ping", "--json");
    assert.equal(ping.code, 0);
    assert.equal(JSON.parse(ping.out)[server.server].ok, true);
    const dump = await on("dump");
    assert.ok(dump.out.split("\n").includes("greeting"));
    const entries = JSON.parse((await on("dump", "--json")).out)[server.server];
    assert.ok(
      entries.some((e: { key: string; size: number }) => e.key === "greeting" && e.size > 0),
    );
  });

  test("flush invalidates every item", async () => {
    assert.equal((await on("flush")).code, 0);
    assert.equal((await on("get", "greeting")).code, 1);
  });

  test("a server that is down is exit code 3 with the error class; ping says FAILED", async () => {
    const got = await cli(["get", "k", "--servers", "127.0.0.1:1", "--timeout", "1000"]);
    assert.equal(got.code, 3);
    assert.match(got.err, /^seed-memcached: ConnectionError: /);
    const ping = await cli(["ping", "--servers", `${server.server},127.0.0.1:1`]);
    assert.equal(ping.code, 3);
    assert.match(ping.out, /127\.0\.0\.1:1 FAILED ConnectionError/);
  });

  test("servers come from MEMCACHED_SERVERS when --servers is not given", async () => {
    await on("set", "from-env", "yes");
    assert.equal(
      (await cli(["get", "from-env"], { MEMCACHED_SERVERS: server.server })).out,
      "yes\n",
    );
  });

  test("usage errors are exit code 2: no command, unknown command, bad numbers, bad keys", async () => {
    assert.equal((await cli([])).code, 2);
    assert.match((await cli(["frobnicate"])).err, /unknown command "frobnicate"/);
    assert.equal((await cli(["toString"])).code, 2);
    assert.equal((await on("touch", "k", "soon")).code, 2);
    assert.equal((await on("set", "k")).code, 2);
    const badKey = await on("get", "a key");
    assert.equal(badKey.code, 2);
    assert.match(badKey.err, /BadKeyProvided/);
    assert.equal((await cli(["get", "k", "--servers", "bad::entry::x"])).code, 2);
    assert.equal((await cli(["--help"])).code, 0);
  });
});

suite("command line as a program", ["memcached"], () => {
  let server: Memcached;
  before(async () => server = await startMemcached());
  after(async () => await server?.stop());

  test(`runs on ${runtime} with its exit code`, async () => {
    const here = fileURLToPath(new URL(".", import.meta.url));
    const program = runtime === "node" ? join(here, "../cli.js") : join(here, "../cli.ts");
    const args = runtime === "deno" ? ["run", "-A", program] : [program];
    const run = (...rest: string[]) =>
      new Promise<{ code: number; out: string }>((resolve) =>
        execFile(
          process.execPath,
          [...args, ...rest, "--servers", server.server],
          (err, out) => resolve({ code: err ? Number(err.code) : 0, out }),
        )
      );
    assert.deepEqual(await run("set", "k", "v"), { code: 0, out: "ok\n" });
    assert.deepEqual(await run("get", "k"), { code: 0, out: "v\n" });
    assert.equal((await run("get", "missing")).code, 1);
  });
});
