/**
 * The client inside the real Workers runtime (workerd, from npm): a client
 * made at module scope serves one request after another and many at once,
 * though Workers refuse I/O on a socket that another request opened.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { freePort, type Memcached, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

// On Node the suite runs compiled under build/node: the sources are found
// from the repository root the tests run in.
const here = fileURLToPath(new URL("../", import.meta.url));
const root = existsSync(join(here, "deno.json")) ? here : process.cwd();
const bin = (name: string) => join(root, "node_modules/.bin", name);

/** Bundles the fixture Worker into one module, as a Worker's build would. */
function bundle(out: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(
      bin("bun"),
      [
        "build",
        join(root, "tests/fixtures/worker.ts"),
        "--outfile",
        out,
        "--target",
        "browser",
        "--format",
        "esm",
        "--external",
        "node:*",
        "--external",
        "cloudflare:sockets",
      ],
      (err, _stdout, stderr) => err ? reject(new Error(stderr || err.message)) : resolve(),
    )
  );
}

/** workerd's configuration: the Worker, and outbound sockets allowed to loopback. */
function config(port: number, memcached: string): string {
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker", esModule = embed "worker.js")],
  compatibilityDate = "2024-09-23",
  bindings = [(name = "MEMCACHED", text = "${memcached}")],
);
`;
}

suite("in the Workers runtime (workerd)", ["memcached"], () => {
  let server: Memcached;
  let dir: string;
  let workerd: ReturnType<typeof spawn> | undefined;
  let url: string;

  before(async () => {
    server = await startMemcached();
    dir = mkdtempSync(join(tmpdir(), "workerd-test-"));
    await bundle(join(dir, "worker.js"));
    const port = await freePort();
    writeFileSync(join(dir, "config.capnp"), config(port, server.server));
    workerd = spawn(bin("workerd"), ["serve", join(dir, "config.capnp")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    workerd.stderr!.on("data", (chunk) => stderr += String(chunk));
    url = `http://127.0.0.1:${port}`;
    for (let attempt = 0; attempt < 100; attempt++) {
      if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`workerd did not start: ${stderr}`);
  });
  after(async () => {
    if (workerd && workerd.exitCode === null) {
      const exited = new Promise((resolve) => workerd!.once("exit", resolve));
      workerd.kill();
      await exited;
    }
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = async (id: number) => await (await fetch(`${url}/run?id=${id}`)).json();
  const expected = (id: number) => ({ value: String(id), many: [[`worker:${id}`, String(id)]] });

  test("a client made at module scope serves one request after another", async () => {
    for (let id = 1; id <= 5; id++) assert.deepEqual(await run(id), expected(id));
  });

  test("it serves many requests at once, each with its own values", async () => {
    const ids = Array.from({ length: 20 }, (_, i) => 100 + i);
    const results = await Promise.all(ids.map(run));
    assert.deepEqual(results, ids.map(expected));
  });

  test("another request's socket is not a server failure: the server stays up", async () => {
    await run(7);
    const health = await (await fetch(`${url}/health`)).json();
    assert.deepEqual(health, [{ server: server.server, state: "up", failures: 0 }]);
  });
});
