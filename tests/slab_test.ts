/** Small byte arrays carved out of shared buffers (protocol/slab.ts). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { allocate, copyOf, encodeText, owned, shareBuffers, SHARED_MAX } from "../protocol/slab.ts";

/** Runs `body` with sharing set to `on`, then puts the setting back. */
function sharing(on: boolean, body: () => void): void {
  const before = shareBuffers(on);
  try {
    body();
  } finally {
    shareBuffers(before);
  }
}

describe("slab", () => {
  test("small arrays share a buffer, large ones have their own", () =>
    sharing(true, () => {
      const a = allocate(10);
      const b = allocate(10);
      assert.equal(a.buffer, b.buffer);
      assert.notEqual(a.byteOffset, b.byteOffset);
      assert.equal(allocate(SHARED_MAX + 1).buffer.byteLength, SHARED_MAX + 1);
    }));

  test("arrays do not overlap, also across a new slab", () =>
    sharing(true, () => {
      const arrays = Array.from({ length: 2000 }, (_, i) => allocate(100).fill(i & 0xff));
      arrays.forEach((bytes, i) => assert.ok(bytes.every((b) => b === (i & 0xff))));
    }));

  test("copyOf copies: later writes to the source do not show", () => {
    const source = new Uint8Array([1, 2, 3, 4]);
    const copy = copyOf(source, 1, 3);
    source.fill(0);
    assert.deepEqual([...copy], [2, 3]);
  });

  test("encodeText writes the same UTF-8 as TextEncoder, small or large", () =>
    sharing(true, () => {
      const utf8 = new TextEncoder();
      for (const text of ["", "plain", "åäö €", "😀 pair", "x".repeat(SHARED_MAX)]) {
        assert.deepEqual(encodeText(text), utf8.encode(text));
      }
    }));

  test("owned hands back an array that fills its buffer alone", () =>
    sharing(true, () => {
      const mine = owned(copyOf(new Uint8Array([7, 8, 9]), 0, 3));
      assert.deepEqual([...mine], [7, 8, 9]);
      assert.equal(mine.buffer.byteLength, 3);
      const whole = new Uint8Array(4);
      assert.equal(owned(whole), whole);
    }));

  test("with sharing off, every array has a buffer of its own", () =>
    sharing(false, () => {
      assert.equal(allocate(5).buffer.byteLength, 5);
      assert.equal(copyOf(new Uint8Array(9), 2, 4).buffer.byteLength, 2);
      assert.equal(encodeText("abc").buffer.byteLength, 3);
    }));
});
