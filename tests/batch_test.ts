/** A tick's batch of gets: each key once, however many callers ask for it. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Batch, type Batched } from "../batch.ts";

const entry = (key: string): Batched => ({ key, resolve() {}, reject() {} });

/** Adds `key` unless the batch has it; returns the entry that asks for it. */
function ask(batch: Batch, key: string): Batched {
  const fresh = entry(key);
  const found = batch.find(key);
  if (found) return found;
  batch.add(fresh, new TextEncoder().encode(key));
  return fresh;
}

describe("batch of gets", () => {
  test("a key asked for again is found, and the batch holds it once", () => {
    const batch = new Batch();
    const first = ask(batch, "a");
    ask(batch, "b");
    assert.equal(ask(batch, "a"), first);
    assert.deepEqual(batch.entries.map((e) => e.key), ["a", "b"]);
    assert.deepEqual(batch.sent, ["a", "b"].map((key) => new TextEncoder().encode(key)));
  });

  test("keys are told apart even when their filter bits collide", () => {
    // 120 keys in a 1024-bit filter: some bits are shared, no key is mistaken for another.
    const batch = new Batch();
    const keys = Array.from({ length: 120 }, (_, i) => `key:${i}`);
    const entries = keys.map((key) => ask(batch, key));
    assert.equal(new Set(entries).size, keys.length);
    keys.forEach((key, i) => assert.equal(ask(batch, key), entries[i]));
    assert.equal(batch.entries.length, keys.length);
  });

  test("a batch larger than the filter can serve still finds every repeat", () => {
    const batch = new Batch();
    const keys = Array.from({ length: 1000 }, (_, i) => `big:${i}`);
    const entries = keys.map((key) => ask(batch, key));
    keys.forEach((key, i) => assert.equal(ask(batch, key), entries[i]));
    assert.deepEqual(batch.entries.map((e) => e.key), keys);
  });
});
