/** A short soak in every run (tests/soak.ts; `deno task soak` runs the long one). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { soak } from "./soak.ts";

describe("soak", () => {
  test("20,000 mixed operations with aborts and timeouts lose nothing and leak nothing", async () => {
    const report = await soak({ operations: 20_000, seconds: 60 });
    console.log(`soak: ${JSON.stringify({ ...report, failureNames: [...report.failureNames] })}`);
    assert.deepEqual(report.wrongValues, []);
    assert.deepEqual([...report.failureNames], []);
    assert.ok(report.aborted + report.timedOut > 0, "aborts and timeouts happened");
    assert.equal(report.openAfter, report.openBefore, "no connection left open");
    assert.ok(report.heapGrowthMiB < 32, `the heap grew by ${report.heapGrowthMiB} MiB`);
  });
});
