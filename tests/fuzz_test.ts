/**
 * A seeded slice of the decoder fuzzing (tests/fuzz.ts) in every run; a
 * failure names its seed, which `deno task fuzz --cases 1 --seed S` replays.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fuzz, runCase, runConnectionCase } from "./fuzz.ts";

describe("decoder fuzzing", () => {
  test("3,000 mutated and random reply streams end in replies or a protocol error", () => {
    const { replies, protocolErrors } = fuzz(3000, 20261124);
    assert.ok(replies > 1000, "valid replies are still decoded");
    assert.ok(protocolErrors > 100, "broken ones are caught");
  });

  test("3,000 mutated and random binary response streams end in replies or a protocol error", () => {
    const { replies, protocolErrors } = fuzz(3000, 20261124, true);
    assert.ok(replies > 1000, "valid responses are still decoded");
    assert.ok(protocolErrors > 100, "broken ones are caught");
  });

  test("a case is the same every time its seed is replayed", () => {
    for (let seed = 1; seed < 100; seed++) assert.deepEqual(runCase(seed), runCase(seed));
  });

  test("through a connection, every request settles whatever the server sends", async () => {
    let ok = 0;
    let failed = 0;
    for (let seed = 1; seed <= 300; seed++) {
      for (const binary of [false, true]) {
        const outcome = await runConnectionCase(seed, binary);
        ok += outcome.ok;
        failed += outcome.failed;
      }
    }
    assert.ok(ok > 0 && failed > 0);
  });
});
