/** Promises whose resolving functions are left in module slots instead of captured by a closure. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pending, rejectLast, resolveLast } from "../connection/promises.ts";

describe("pending promises", () => {
  test("each promise settles through the functions its own call left", async () => {
    const first = pending<string>();
    const resolveFirst = resolveLast;
    const second = pending<string>();
    const rejectSecond = rejectLast;
    rejectSecond(new Error("second"));
    resolveFirst("first");
    assert.equal(await first, "first");
    await assert.rejects(second, /second/);
  });
});
