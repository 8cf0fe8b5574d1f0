/** Deno run without --allow-net: the first request says which flag to grant. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";

import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

// On Node the suite runs compiled under build/node, away from the sources:
// the fixture is then found from the repository root the tests run in.
const here = fileURLToPath(new URL("../", import.meta.url));
const root = existsSync(join(here, "deno.json")) ? here : process.cwd();
const fixture = join(root, "tests/fixtures/no_net.ts");

describe("Deno permissions", () => {
  test("without --allow-net a request is SocketCreateError that names the flag", async () => {
    const output = await new Promise<string>((resolve, reject) =>
      execFile(
        "deno",
        ["run", "--no-prompt", `--allow-read=${root}`, "--allow-env", fixture],
        { cwd: root },
        (err, stdout, stderr) => err ? reject(new Error(stderr || err.message)) : resolve(stdout),
      )
    );
    const { name, message } = JSON.parse(output);
    assert.equal(name, "SocketCreateError");
    assert.match(message, /--allow-net/);
  });
});
