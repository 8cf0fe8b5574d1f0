/** The value codec: pylibmc's flags, this client's JSON bit, and compression. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Codec, Flags, pylibmcSerializer, UnreadableValue } from "../mod.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const { serialize, deserialize } = pylibmcSerializer;

describe("codec", () => {
  test("values get pylibmc's flags", () => {
    assert.deepEqual(serialize(new Uint8Array([1, 2])), {
      bytes: new Uint8Array([1, 2]),
      flags: 0,
    });
    assert.deepEqual(serialize("åäö"), { bytes: bytes("åäö"), flags: 16 });
    assert.deepEqual(serialize(""), { bytes: bytes(""), flags: 16 });
    assert.deepEqual(serialize(true), { bytes: bytes("1"), flags: 2 });
    assert.deepEqual(serialize(false), { bytes: bytes("0"), flags: 2 });
    assert.deepEqual(serialize(-42), { bytes: bytes("-42"), flags: 4 });
    assert.deepEqual(serialize(2n ** 64n), { bytes: bytes("18446744073709551616"), flags: 4 | 64 });
  });

  test("other numbers, null, objects and arrays are JSON under flags 16 + 32", () => {
    assert.deepEqual(serialize(1.5), { bytes: bytes("1.5"), flags: Flags.TEXT | Flags.JSON });
    assert.deepEqual(serialize(null), { bytes: bytes("null"), flags: 48 });
    assert.deepEqual(serialize({ a: [1] }), { bytes: bytes('{"a":[1]}'), flags: 48 });
  });

  test("every kind of value reads back as it was written", () => {
    const values = [
      new Uint8Array([0, 255]),
      "text",
      "",
      true,
      false,
      0,
      -7,
      2n ** 60n,
      5n,
      1.25,
      null,
      {
        a: "b",
      },
      [1, "x"],
    ];
    for (const value of values) {
      const { bytes, flags } = serialize(value);
      assert.deepEqual(deserialize(bytes, flags), value);
    }
  });

  test("integers read back as numbers when safe and bigints past 2^53", () => {
    assert.equal(deserialize(bytes("9007199254740991"), 4), Number.MAX_SAFE_INTEGER);
    assert.equal(deserialize(bytes("-9007199254740991"), 4), -Number.MAX_SAFE_INTEGER);
    assert.equal(deserialize(bytes("9007199254740992"), 4), 2n ** 53n);
  });

  test("integers of any length read back, as pylibmc writes them", () => {
    const long = "9".repeat(1000);
    assert.equal(deserialize(bytes(long), 4), BigInt(long));
    assert.equal(deserialize(bytes(`-${long}`), 4), -BigInt(long));
  });

  test("a bigint reads back as a bigint, however small", () => {
    assert.equal(deserialize(bytes("5"), 4 | 64), 5n);
  });

  test("a number memcached padded with spaces after decr reads back as the number", () => {
    assert.equal(deserialize(bytes("9 "), 4), 9);
  });

  test("unsupported values are a TypeError", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const value of [undefined, () => 1, Symbol("s"), NaN, Infinity, cyclic, { n: 1n }]) {
      assert.throws(() => serialize(value), TypeError);
    }
  });

  test("text that holds U+FFFD itself reads back as text; invalid UTF-8 is UnreadableValue", () => {
    assert.equal(deserialize(bytes("a\uFFFDb"), 16), "a\uFFFDb");
    const mixed = new Uint8Array([...bytes("\uFFFD"), 0xff]);
    assert.throws(() => deserialize(mixed, 16), UnreadableValue);
  });

  test("text that starts with a byte order mark reads back with it", () => {
    const { bytes, flags } = serialize("\uFEFFtext");
    assert.equal(deserialize(bytes, flags), "\uFEFFtext");
  });

  test("pickles and unknown flags come back as raw bytes", () => {
    const raw = bytes("\x80\x04K\x01.");
    assert.deepEqual(deserialize(raw, Flags.PICKLE), raw);
    assert.deepEqual(deserialize(raw, 3), raw);
    assert.deepEqual(deserialize(raw, 64), raw);
  });

  test("bytes that do not read as their flags say are UnreadableValue, never bytes", () => {
    for (
      const [payload, flags] of [
        [new Uint8Array([0xff]), 16],
        [bytes("{"), 48],
        [bytes("12a"), 4],
        [bytes("5x"), 4 | 64],
        [bytes("yes"), 2],
        [bytes(""), 4],
      ] as const
    ) {
      assert.throws(() => deserialize(payload, flags), UnreadableValue, `flags ${flags}`);
    }
  });

  test("raw bytes read from a shared buffer come back in a buffer of their own", () => {
    const codec = new Codec(pylibmcSerializer, undefined, 1 << 20);
    const shared = new Uint8Array(64).subarray(8, 11);
    const value = codec.decode(shared, 0) as Uint8Array;
    assert.equal(value.buffer.byteLength, 3);
  });

  test("a value given as its text reads back as it does from its bytes", () => {
    const codec = new Codec(pylibmcSerializer, undefined, 1 << 20);
    const stored: [string, number][] = [
      ["text", 16],
      ["", 16],
      ['{"a":[1]}', 48],
      ["{", 48],
      ["-42", 4],
      ["9 ", 4],
      ["18446744073709551616", 4],
      ["7", 68],
      ["12a", 4],
      ["1", 2],
      ["0", 2],
      ["7", 2],
      ["x", 2],
    ];
    const read = (decode: () => unknown) => {
      try {
        return decode();
      } catch (err) {
        return (err as Error).name;
      }
    };
    for (const [source, flags] of stored) {
      assert.ok(codec.textFlags.includes(flags));
      assert.deepEqual(
        read(() => codec.decodeText(source, flags)),
        read(() => codec.decode(bytes(source), flags)),
        source,
      );
    }
  });

  test("text is encoded as UTF-8 whatever its length, ASCII or not", () => {
    const codec = new Codec(pylibmcSerializer, undefined, 1 << 22);
    for (
      const text of ["a".repeat(1 << 20), "é".repeat(1 << 19) + "a", "a".repeat(1 << 20) + "✓"]
    ) {
      const prepared = codec.prepare(text);
      const sent = "data" in prepared ? prepared.data : prepared.bytes;
      const bytes = typeof sent === "string" ? new TextEncoder().encode(sent) : sent;
      assert.equal(new TextDecoder().decode(bytes), text);
    }
  });

  test("a custom serializer reads no value from text", () => {
    const custom = { serialize, deserialize: (b: Uint8Array) => b };
    assert.deepEqual(new Codec(custom, undefined, 1 << 20).textFlags, []);
  });

  test("a custom serializer is handed bytes with a buffer of their own", () => {
    let seen: Uint8Array | undefined;
    const custom = { serialize: serialize, deserialize: (b: Uint8Array) => (seen = b) };
    new Codec(custom, undefined, 1 << 20).decode(new Uint8Array(64).subarray(8, 11), 16);
    assert.equal(seen?.buffer.byteLength, 3);
  });

  test("compression keeps a value only when it gets smaller and adds flag 8", async () => {
    const codec = new Codec(pylibmcSerializer, { threshold: 10 }, 1 << 20);
    const long = codec.serialize("x".repeat(1000));
    assert.ok(codec.needsCompression(long));
    const packed = await codec.compress(long);
    assert.equal(packed.flags, 16 | 8);
    assert.ok(packed.bytes.length < 100);
    assert.equal(packed.bytes[0], 0x78, "zlib format, as pylibmc writes it");
    assert.equal(await codec.decode(packed.bytes, packed.flags), "x".repeat(1000));
    assert.ok(!codec.needsCompression(codec.serialize("short")));
    const random = codec.serialize(crypto.getRandomValues(new Uint8Array(64)));
    assert.equal((await codec.compress(random)).flags, 0);
  });

  test("a compression level is honoured", async () => {
    const value = new Codec(pylibmcSerializer, undefined, 1 << 20).serialize(
      Array.from({ length: 5000 }, (_, i) => i % 97).join(","),
    );
    const fast = await new Codec(pylibmcSerializer, { threshold: 1, level: 1 }, 1 << 20).compress(
      value,
    );
    const small = await new Codec(pylibmcSerializer, { threshold: 1, level: 9 }, 1 << 20).compress(
      value,
    );
    assert.ok(small.bytes.length < fast.bytes.length);
  });

  test("a value that inflates past the limit is refused", async () => {
    const big = new Codec(pylibmcSerializer, { threshold: 1 }, 1 << 30);
    const bomb = await big.compress({ bytes: new Uint8Array(2 << 20), flags: 0 });
    const small = new Codec(pylibmcSerializer, undefined, 1024);
    await assert.rejects(
      async () => await small.decode(bomb.bytes, bomb.flags),
      (err) => err instanceof UnreadableValue && /inflates to more than/.test(err.message),
    );
  });

  test("a corrupt zlib stream is a clear error", async () => {
    const codec = new Codec(pylibmcSerializer, undefined, 1024);
    await assert.rejects(
      async () => await codec.decode(bytes("not zlib"), 8),
      (err) => err instanceof UnreadableValue && /could not decompress/.test(err.message),
    );
  });
});
