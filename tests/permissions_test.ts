/** Deno run without --allow-net: the first request says which flag to grant. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";

const fixture = fileURLToPath(new URL("./fixtures/no_net.ts", import.meta.url));
const root = fileURLToPath(new URL("../", import.meta.url));

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
