/**
 * memcached's text protocol (doc/protocol.txt): encoders for every command the
 * client sends, and {@linkcode textWire}, its side of the wire contract. Its
 * replies are decoded by `TextReplyParser` (text_parser.ts).
 *
 * Pure: bytes in, replies out. Keys reach these encoders already validated
 * by `encodeKey`.
 *
 * @module
 */
import type { ByteWriter, DataBlock } from "./writer.ts";
import type { SentKey } from "./keys.ts";
import type { Request, Wire } from "./wire.ts";

/** The storage commands: each stores one item. */
export type StoreVerb = "set" | "add" | "replace" | "append" | "prepend" | "cas";

/**
 * Encodes a storage command and its data block:
 * `<verb> <key> <flags> <ttl> <bytes> [<cas>]\r\n<data>\r\n`.
 */
export function encodeStore(
  w: ByteWriter,
  verb: StoreVerb,
  key: Uint8Array,
  flags: number,
  ttl: number,
  value: DataBlock,
  cas?: bigint,
): void {
  w.block(value, (size) => {
    w.ascii(verb);
    w.ascii(" ");
    w.bytes(key);
    w.ascii(` ${flags} ${ttl} ${size}`);
    if (cas !== undefined) w.ascii(` ${cas}`);
    w.ascii("\r\n");
  });
  w.ascii("\r\n");
}

/** Encodes `get` or `gets` of one or more keys. */
export function encodeRetrieve(
  w: ByteWriter,
  verb: "get" | "gets",
  keys: readonly SentKey[],
): void {
  w.ascii(verb);
  for (let i = 0; i < keys.length; i++) {
    w.ascii(" ");
    w.key(keys[i]);
  }
  w.ascii("\r\n");
}

/** Encodes `gat <ttl> <key>…`: get and set the ttl at once. */
export function encodeGat(w: ByteWriter, ttl: number, keys: readonly SentKey[]): void {
  w.ascii(`gat ${ttl}`);
  for (const key of keys) {
    w.ascii(" ");
    w.key(key);
  }
  w.ascii("\r\n");
}

/** Encodes `delete <key>`. */
export function encodeDelete(w: ByteWriter, key: Uint8Array): void {
  w.ascii("delete ");
  w.bytes(key);
  w.ascii("\r\n");
}

/** Encodes `incr` or `decr` by an unsigned 64-bit delta. */
export function encodeArith(
  w: ByteWriter,
  verb: "incr" | "decr",
  key: Uint8Array,
  delta: bigint,
): void {
  w.ascii(verb);
  w.ascii(" ");
  w.bytes(key);
  w.ascii(` ${delta}\r\n`);
}

/** Encodes `touch <key> <ttl>`. */
export function encodeTouch(w: ByteWriter, key: Uint8Array, ttl: number): void {
  w.ascii("touch ");
  w.bytes(key);
  w.ascii(` ${ttl}\r\n`);
}

/** Encodes `flush_all [<delay>]`. */
export function encodeFlushAll(w: ByteWriter, delay: number): void {
  w.ascii(delay > 0 ? `flush_all ${delay}\r\n` : "flush_all\r\n");
}

/** Encodes `stats [<group>]`; the group is an already validated token. */
export function encodeStats(w: ByteWriter, group?: Uint8Array): void {
  w.ascii("stats");
  if (group) {
    w.ascii(" ");
    w.bytes(group);
  }
  w.ascii("\r\n");
}

/** Encodes `version`. */
export function encodeVersion(w: ByteWriter): void {
  w.ascii("version\r\n");
}

/** Encodes `lru_crawler metadump all`: one line per item, closed by `END`. */
export function encodeMetadump(w: ByteWriter): void {
  w.ascii("lru_crawler metadump all\r\n");
}

const keyText = new TextDecoder();

/** Decodes a key the server sent back, for matching with the keys asked for. */
export function decodeKey(key: SentKey): string {
  return typeof key === "string" ? key : keyText.decode(key);
}

/**
 * Why a request needs the meta protocol, or `undefined`: item details, a
 * claim, and marking an item stale have no text or binary form.
 */
export function metaOnly(request: Request): string | undefined {
  if (request.kind === "retrieve" && request.details) {
    return "getWithMeta needs a server that speaks the meta protocol (memcached 1.6+)";
  }
  if (request.kind === "retrieve" && request.claim) {
    return "a claim (getOrSet) needs the meta protocol (memcached 1.6+)";
  }
  if (request.kind === "remove" && request.stale !== undefined) {
    return "marking an item stale needs the meta protocol (memcached 1.6+)";
  }
  return undefined;
}

/**
 * What the text protocol sends for `request`: a quiet batch of one write
 * goes as that write. Text has no quiet write that still reports a failure
 * (with `noreply` memcached answers nothing, errors included), so the
 * caller only does not wait for the answer.
 */
function carried(request: Request): Request {
  return request.kind === "batch" && request.quiet && request.requests.length === 1
    ? request.requests[0]
    : request;
}

/**
 * The text protocol's side of the wire contract. Its replies already say
 * what every answer says, so a reply is its own answer.
 */
export const textWire: Wire = {
  refuses(request) {
    const one = carried(request);
    if (one.kind === "batch") return "a quiet batch needs the meta protocol";
    return metaOnly(one);
  },
  opaques: () => 0,
  expect(request) {
    switch (carried(request).kind) {
      case "retrieve":
        return "values";
      case "stats":
        return "stats";
      case "dump":
        return "dump";
      default:
        return "line";
    }
  },
  encode(w, batchOrOne) {
    const request = carried(batchOrOne);
    switch (request.kind) {
      case "retrieve":
        if (request.ttl !== undefined) return encodeGat(w, request.ttl, request.keys);
        return encodeRetrieve(w, request.cas ? "gets" : "get", request.keys);
      case "store":
        return encodeStore(
          w,
          request.verb,
          request.key,
          request.flags,
          request.ttl,
          request.data,
          request.cas,
        );
      case "remove":
        return encodeDelete(w, request.key);
      case "arithmetic":
        return encodeArith(w, request.verb, request.key, request.delta);
      case "touch":
        return encodeTouch(w, request.key, request.ttl);
      case "flush":
        return encodeFlushAll(w, request.delay);
      case "stats":
        return encodeStats(w, request.group);
      case "version":
        return encodeVersion(w);
      case "dump":
        return encodeMetadump(w);
      case "batch":
        throw new TypeError("the text protocol has no quiet batch");
    }
  },
  read: (reply) => reply,
};
