/** A tick's batch of gets: each key once, however many callers ask for it. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Batch } from "../client/batch.ts";

/** Adds `key` unless the batch has it; returns its position. */
function ask(batch: Batch, key: string): number {
  const at = batch.find(key);
  return at >= 0 ? at : batch.add(key, new TextEncoder().encode(key));
}

describe("batch of gets", () => {
  test("a key asked for again is found, and the batch holds it once", () => {
    const batch = new Batch(100);
    assert.equal(ask(batch, "a"), 0);
    assert.equal(ask(batch, "b"), 1);
    assert.equal(ask(batch, "a"), 0);
    assert.deepEqual(batch.keys, ["a", "b"]);
    assert.deepEqual(batch.sent, ["a", "b"].map((key) => new TextEncoder().encode(key)));
  });

  test("keys are told apart even when their filter bits collide", () => {
    // 120 keys in a 1024-bit filter: some bits are shared, no key is mistaken for another.
    const batch = new Batch(100);
    const keys = Array.from({ length: 120 }, (_, i) => `key:${i}`);
    keys.forEach((key, i) => assert.equal(ask(batch, key), i));
    keys.forEach((key, i) => assert.equal(ask(batch, key), i));
    assert.equal(batch.keys.length, keys.length);
  });

  test("a batch larger than the filter can serve still finds every repeat", () => {
    const batch = new Batch(100);
    const keys = Array.from({ length: 1000 }, (_, i) => `big:${i}`);
    keys.forEach((key) => ask(batch, key));
    keys.forEach((key, i) => assert.equal(ask(batch, key), i));
    assert.deepEqual(batch.keys, keys);
  });

  test("keys fall into parts of the part size, each part settled once for all its keys", async () => {
    const batch = new Batch(2);
    ["a", "b", "c"].forEach((key) => ask(batch, key));
    assert.equal(batch.parts.length, 2);
    batch.parts[1].resolve(["value of c"]);
    assert.deepEqual(await batch.parts[1].promise, ["value of c"]);
  });
});
