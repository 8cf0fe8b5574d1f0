/** Key validation: what may reach the wire and what may not. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encodeBinaryKey, encodeKey, keyBytes, MAX_KEY_LENGTH, textKey } from "../protocol/keys.ts";

describe("keys", () => {
  test("a key of 1 to 250 UTF-8 bytes is encoded as UTF-8", () => {
    assert.deepEqual(encodeKey("k", ""), new TextEncoder().encode("k"));
    assert.deepEqual(encodeKey("é✓😀", ""), new TextEncoder().encode("é✓😀"));
    assert.ok(encodeKey("x".repeat(MAX_KEY_LENGTH), "") instanceof Uint8Array);
  });

  test("the prefix is applied before the checks", () => {
    assert.deepEqual(encodeKey("1", "user:"), new TextEncoder().encode("user:1"));
    assert.match(encodeKey("x".repeat(245), "prefix:") as string, /too long: 252 bytes/);
    assert.match(encodeKey("ok", "bad prefix") as string, /space/);
  });

  test("an empty key is refused", () => {
    assert.equal(encodeKey("", ""), "is empty");
  });

  test("a key over 250 bytes is refused, counting UTF-8 bytes", () => {
    assert.match(encodeKey("x".repeat(251), "") as string, /too long: 251 bytes, max is 250/);
    assert.match(encodeKey("é".repeat(126), "") as string, /252 bytes/);
  });

  test("whitespace and control characters are refused, so no command can be injected", () => {
    for (
      const key of [
        "a b",
        "a\tb",
        "a\rb",
        "a\nb",
        "a\r\nflush_all",
        "a\0b",
        "\x7f",
        "a\x85",
        "a\u00a0",
      ]
    ) {
      assert.equal(typeof encodeKey(key, ""), "string", JSON.stringify(key));
    }
  });

  test("a key of printable ASCII can be sent as its own string, prefix and all", () => {
    assert.equal(textKey("1", "user:"), "user:1");
    assert.equal(textKey("x".repeat(MAX_KEY_LENGTH), ""), "x".repeat(MAX_KEY_LENGTH));
    assert.deepEqual(keyBytes("user:1"), encodeKey("1", "user:"));
  });

  test("any other key is left to encodeKey, which encodes it or says what is wrong", () => {
    for (const key of ["", "é", "a b", "a\r\n", "\x7f", "x".repeat(MAX_KEY_LENGTH + 1)]) {
      assert.equal(textKey(key, ""), undefined, JSON.stringify(key));
    }
    assert.equal(textKey(5 as unknown as string, ""), undefined);
  });

  test("Unicode spaces, separators and invisible format characters are refused", () => {
    for (const c of ["\u2028", "\u2029", "\u3000", "\ufeff", "\u200b", "\u2003", "\u202e"]) {
      const said = encodeKey(`a${c}b`, "");
      assert.equal(typeof said, "string", JSON.stringify(c));
      assert.match(said as string, /Unicode space or format character/);
      assert.ok(encodeBinaryKey(`a${c}b`, "") instanceof Uint8Array, "allowed as a binary key");
    }
    assert.ok(encodeKey("café:日本", "") instanceof Uint8Array);
  });

  test("lone surrogates are refused, since UTF-8 cannot encode them", () => {
    assert.match(encodeKey("a\ud800", "") as string, /lone surrogate/);
    assert.match(encodeKey("\udc00a", "") as string, /lone surrogate/);
    assert.ok(encodeKey("\ud83d\ude00", "") instanceof Uint8Array);
  });
});
