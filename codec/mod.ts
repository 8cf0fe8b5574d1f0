/**
 * Values ⇄ bytes and flags, as pylibmc 1.6 writes them, so that Python
 * services on the same memcached read what this client writes and the other
 * way round; plus zlib compression, also as pylibmc does it.
 *
 * | value | bytes | flags |
 * |---|---|---|
 * | `Uint8Array`, `ArrayBuffer` | as is | 0 |
 * | `string` | UTF-8 | 16 |
 * | `boolean` | `"1"` / `"0"` | 2 (pylibmc reads it as an int 1/0) |
 * | integer `number` | ASCII decimal | 4 |
 * | `bigint` | ASCII decimal | 68 (4 + 64; pylibmc reads it as an int) |
 * | other numbers, `null`, plain objects, arrays | JSON text | 48 (16 + 32) |
 * | compressed (any of the above) | zlib stream | + 8 |
 *
 * Flags 32 and 64 are this client's JSON and bigint bits. pylibmc ignores
 * them, reading a JSON value as its text (a `str`) and a bigint as an `int`.
 * Every value either reads back equal and of the same type or is refused
 * before anything is sent: a value JSON would change (a `Date`, `Map`,
 * `Set`, typed array, class instance, `undefined` in an object, …) is a
 * TypeError. Integers flagged 4 read back as a `number` when they are safe
 * integers and as a `bigint` otherwise, of any length. Bytes whose flags say
 * one of the types above but which do not read as it (e.g. an integer after
 * `append`) are `UnreadableValue`. Flag 1 is a Python pickle: it cannot be
 * read here, so it comes back as raw bytes, as does any flag combination not
 * in the table.
 *
 * @module
 */
import { UnreadableValue } from "../errors.ts";
import { changedByJson, kind } from "./json.ts";
import { deflate, inflate } from "./zlib.ts";
import { encodeText, owned } from "../protocol/slab.ts";

/** pylibmc's flag bits, plus this client's JSON bit. */
export const Flags: Readonly<{
  PICKLE: 1;
  BOOLEAN: 2;
  INTEGER: 4;
  ZLIB: 8;
  TEXT: 16;
  JSON: 32;
  BIGINT: 64;
}> = Object.freeze(
  {
    /** A Python pickle (pylibmc's default for other types). */
    PICKLE: 1,
    /** A boolean as `"1"`/`"0"` (pylibmc's FLAG_INTEGER). */
    BOOLEAN: 2,
    /** An integer as ASCII decimal (pylibmc's FLAG_LONG). */
    INTEGER: 4,
    /** The bytes are a zlib stream of the value. */
    ZLIB: 8,
    /** UTF-8 text. */
    TEXT: 16,
    /** JSON text; always set together with TEXT. */
    JSON: 32,
    /** An integer read back as a `bigint`; always set together with INTEGER. */
    BIGINT: 64,
  } as const,
);

/** A value and its flags, as stored in memcached. */
export interface Encoded {
  /** The bytes stored. */
  bytes: Uint8Array;
  /** The item's client flags, a 32-bit unsigned integer. */
  flags: number;
}

/**
 * Turns values into bytes and flags and back: the `serializer` client
 * option, like pylibmc's `serialize`/`deserialize` overrides. Compression is
 * applied after `serialize` and undone before `deserialize`.
 *
 * A `deserialize` may throw `CacheMiss` to make a stored value read as a miss.
 *
 * @example
 * ```ts
 * import type { Serializer } from "./mod.ts";
 * const json: Serializer = {
 *   serialize: (value) => ({ bytes: new TextEncoder().encode(JSON.stringify(value)), flags: 0 }),
 *   deserialize: (bytes) => JSON.parse(new TextDecoder().decode(bytes)),
 * };
 * ```
 */
export interface Serializer {
  /** The bytes and flags to store for `value`; throws TypeError for what it cannot store. */
  serialize(value: unknown): Encoded;
  /** The value stored as `bytes` with `flags`. */
  deserialize(bytes: Uint8Array, flags: number): unknown;
}

const utf8 = new TextEncoder();
// A leading byte order mark is part of the text (Python reads it so too).
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The default serializer: pylibmc's flags, as in the table above. */
export const pylibmcSerializer: Serializer = Object.freeze({
  serialize: (value: unknown): Encoded =>
    formBytes(pylibmcForm(value), (text) => utf8.encode(text)),

  deserialize(bytes: Uint8Array, flags: number): unknown {
    if (!TEXT_FLAGS.includes(flags)) return bytes;
    const source = text(bytes);
    if (source === undefined) {
      throw new UnreadableValue(`the value is flagged ${flags} (text) but is not UTF-8`);
    }
    return fromText(source, flags);
  },
});

/** pylibmc's form of a value: the text it is stored as, with its flags, or bytes as they are. */
type Form = { text: string; flags: number } | Encoded;

/**
 * How pylibmc stores `value`; throws TypeError for a value it cannot store
 * or that would not read back as it is.
 */
function pylibmcForm(value: unknown): Form {
  switch (typeof value) {
    case "string":
      if (!value.isWellFormed()) {
        throw new TypeError("cannot store text with a lone surrogate: UTF-8 has no form for it");
      }
      return { text: value, flags: Flags.TEXT };
    case "boolean":
      return { text: value ? "1" : "0", flags: Flags.BOOLEAN };
    case "bigint":
      return { text: String(value), flags: Flags.INTEGER | Flags.BIGINT };
    case "number":
      if (Number.isSafeInteger(value)) return { text: String(value), flags: Flags.INTEGER };
      if (!Number.isFinite(value)) {
        throw new TypeError(`cannot store the number ${value}`);
      }
      return json(value);
    case "object":
      if (value instanceof Uint8Array) return { bytes: value, flags: 0 };
      if (value instanceof ArrayBuffer) {
        return { bytes: new Uint8Array(value), flags: 0 };
      }
      return json(value);
    default:
      throw new TypeError(`cannot store ${kind(value)}`);
  }
}

/**
 * A pylibmc form as bytes, with `encode` for text: the client's own codec
 * passes one that writes into shared buffers (see protocol/slab.ts), whose
 * bytes it only sends.
 */
function formBytes(form: Form, encode: (text: string) => Uint8Array): Encoded {
  return "text" in form ? { bytes: encode(form.text), flags: form.flags } : form;
}

function json(value: unknown): Form {
  let source: string | undefined;
  try {
    source = JSON.stringify(value);
  } catch (cause) {
    const why = cause instanceof globalThis.Error ? cause.message : String(cause);
    throw new TypeError(`cannot store the value as JSON: ${why}`, {
      cause,
    });
  }
  // JSON.stringify has refused cycles: the walk below ends.
  const stray = changedByJson(value);
  if (stray) {
    throw new TypeError(
      `cannot store ${kind(stray.value)}${stray.at ? ` at ${stray.at}` : ""}: JSON would ` +
        "read it back as something else; store plain objects, arrays, strings, numbers, " +
        "booleans and null, or pass a serializer",
    );
  }
  return { text: source!, flags: Flags.TEXT | Flags.JSON };
}

let lenientFirst = false;

/**
 * Whether text is read with the lenient UTF-8 decoder first, the strict one
 * only settling a doubt: where the strict decoder costs several times the
 * lenient one (Deno). The client sets it for the runtime it runs on.
 */
export function readLenientFirst(yes: boolean): void {
  lenientFirst = yes;
}
const lenientUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** The bytes as UTF-8 text, or `undefined` when they are not valid UTF-8. */
function text(bytes: Uint8Array): string | undefined {
  if (lenientFirst) {
    const decoded = lenientUtf8.decode(bytes);
    // Invalid bytes decode to U+FFFD: only then is the strict answer needed.
    if (!decoded.includes("\uFFFD")) return decoded;
  }
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The flags whose values the default serializer reads as text. */
const TEXT_FLAGS: readonly number[] = [
  Flags.TEXT,
  Flags.TEXT | Flags.JSON,
  Flags.INTEGER,
  Flags.INTEGER | Flags.BIGINT,
  Flags.BOOLEAN,
];

/**
 * The value stored as `source` with one of the {@linkcode TEXT_FLAGS};
 * UnreadableValue when the text is not what its flags say.
 */
function fromText(source: string, flags: number): unknown {
  switch (flags) {
    case Flags.TEXT:
      return source;
    case Flags.TEXT | Flags.JSON:
      try {
        return JSON.parse(source);
      } catch (cause) {
        throw new UnreadableValue(`the value is flagged ${flags} (JSON) but is not JSON`, {
          cause,
        });
      }
    case Flags.INTEGER:
      return integer(source, flags);
    case Flags.INTEGER | Flags.BIGINT:
      return BigInt(integer(source, flags));
    default: {
      const n = integer(source, flags);
      return n === 0 || n === 1 ? n === 1 : n;
    }
  }
}

// memcached pads a decremented number with spaces instead of shrinking it.
const DIGITS = /^-?\d+ *$/;

/** A stored integer of any length: a `number` when it is safe, else a `bigint`. */
function integer(source: string, flags: number): number | bigint {
  if (!DIGITS.test(source)) {
    throw new UnreadableValue(
      `the value is flagged ${flags} (integer) but is not one: ${
        JSON.stringify(source.length > 20 ? source.slice(0, 20) + "…" : source)
      }`,
    );
  }
  const digits = source.trimEnd();
  // Up to 15 digits, every integer is safe.
  if (digits.length <= 15) return Number(digits);
  const n = BigInt(digits);
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(n)
    : n;
}

/** Where {@linkcode isAscii} encodes text: kept, so that its pages stay mapped. */
let scratch = new Uint8Array(0);

let utf8Length: ((text: string) => number) | undefined;

/**
 * Gives the codec the runtime's count of a string's UTF-8 bytes, when it
 * has a faster one than encoding the string (the client passes
 * `node:buffer`'s where there is one).
 */
export function measureUtf8With(count: ((text: string) => number) | undefined): void {
  utf8Length = count;
}

/**
 * Whether `text` is all ASCII: its UTF-8 is then one byte per character,
 * and encoded into that many bytes, it fits only then (into warm memory:
 * a megabyte in about 45 µs).
 */
function isAscii(text: string): boolean {
  if (utf8Length) return utf8Length(text) === text.length;
  if (scratch.length < text.length) scratch = new Uint8Array(text.length);
  return utf8.encodeInto(text, scratch.subarray(0, text.length)).read === text.length;
}

/** When and how hard to compress values, as pylibmc's `min_compress_len` and `compress_level`. */
export interface CompressionOptions {
  /** Compress values of at least this many bytes (after serializing). 0 turns compression off. */
  threshold: number;
  /**
   * zlib level 1 (fast) to 9 (small); 0 turns compression off; -1 (the
   * default) is zlib's default level.
   */
  level?: number;
}

/**
 * The largest value decompression may produce, as a multiple of
 * `maxValueSize`: a small zlib stream can inflate to gigabytes.
 */
export const INFLATE_RATIO = 64;

/**
 * A serializer with compression on top: what the client stores and reads.
 */
export class Codec {
  readonly #serializer: Serializer;
  readonly #threshold: number;
  readonly #level: number;
  readonly #maxInflated: number;
  /** Text up to this many characters is sent as it is written: see {@linkcode prepare}. */
  readonly #textUpTo: number;
  /** ASCII text up to this many characters is sent as it is written too. */
  readonly #asciiUpTo: number;

  /** Makes a codec; `maxValueSize` bounds what decompression may produce. */
  constructor(
    serializer: Serializer,
    compression: CompressionOptions | undefined,
    maxValueSize: number,
  ) {
    this.#serializer = serializer;
    this.#level = compression?.level ?? -1;
    this.#threshold = this.#level === 0 ? 0 : compression?.threshold ?? 0;
    this.#maxInflated = maxValueSize * INFLATE_RATIO;
    // A UTF-16 code unit takes at most 3 bytes of UTF-8 (a surrogate pair, two
    // units, takes 4): up to a third of the limit, no string is too large to
    // store or large enough to compress, whatever its characters.
    const textLimit = this.#threshold > 0
      ? Math.min(maxValueSize, this.#threshold - 1)
      : maxValueSize;
    this.#textUpTo = serializer === pylibmcSerializer ? Math.floor(textLimit / 3) : -1;
    // ASCII text is one byte per character: up to either limit, it is sent as it is.
    this.#asciiUpTo = serializer === pylibmcSerializer ? textLimit : -1;
  }

  /**
   * The value to store. With the default serializer, text that needs no
   * check of its size in bytes nor compression (up to a third of either
   * limit, in characters) stays text (`data`), to be encoded straight into
   * the request as it is written; anything else is serialized to bytes
   * (`bytes`), for the caller to check against `maxValueSize` and compress.
   * Throws TypeError for a value that cannot be stored.
   */
  prepare(value: unknown): Encoded | { data: string | Uint8Array; flags: number } {
    if (this.#serializer !== pylibmcSerializer) return this.serialize(value);
    const form = pylibmcForm(value);
    if (
      "text" in form &&
      (form.text.length <= this.#textUpTo ||
        (form.text.length <= this.#asciiUpTo && isAscii(form.text)))
    ) {
      return { data: form.text, flags: form.flags };
    }
    return formBytes(form, encodeText);
  }

  /** Whether `encode` may need to wait (it does only to compress). */
  needsCompression(encoded: Encoded): boolean {
    return this.#threshold > 0 && encoded.bytes.length >= this.#threshold;
  }

  /** Serializes a value; throws TypeError for one it cannot store. */
  serialize(value: unknown): Encoded {
    const encoded = this.#serializer === pylibmcSerializer
      ? formBytes(pylibmcForm(value), encodeText)
      : this.#serializer.serialize(value);
    if (
      !(encoded?.bytes instanceof Uint8Array) ||
      !Number.isInteger(encoded.flags) || encoded.flags < 0 ||
      encoded.flags > 0xffffffff
    ) {
      throw new TypeError(
        "serialize() must return { bytes: Uint8Array, flags: 32-bit unsigned integer }",
      );
    }
    return encoded;
  }

  /** Compresses a serialized value, keeping the result only when it is smaller. */
  async compress(encoded: Encoded): Promise<Encoded> {
    const packed = await deflate(encoded.bytes, this.#level);
    return packed.length < encoded.bytes.length
      ? { bytes: packed, flags: encoded.flags | Flags.ZLIB }
      : encoded;
  }

  /**
   * The flags of values {@linkcode decodeText} can read from their text:
   * the default serializer's textual ones, none for a custom serializer.
   */
  get textFlags(): readonly number[] {
    return this.#serializer === pylibmcSerializer ? TEXT_FLAGS : [];
  }

  /**
   * Reads back a stored value given as its text, which must be what its
   * bytes decode to, flagged with one of {@linkcode textFlags}.
   */
  decodeText(source: string, flags: number): unknown {
    return fromText(source, flags);
  }

  /** Reads a stored value back; a promise only when it must be decompressed. */
  decode(bytes: Uint8Array, flags: number): unknown {
    if (flags & Flags.ZLIB) {
      return inflate(bytes, this.#maxInflated).then((plain) =>
        this.#serializer.deserialize(plain, flags & ~Flags.ZLIB)
      );
    }
    // `bytes` may share its buffer (see protocol/slab.ts): bytes that reach
    // a caller, or a serializer that may keep them, have a buffer of their own.
    if (this.#serializer !== pylibmcSerializer) {
      return this.#serializer.deserialize(owned(bytes), flags);
    }
    const value = pylibmcSerializer.deserialize(bytes, flags);
    return value === bytes ? owned(bytes) : value;
  }
}
