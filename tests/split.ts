/**
 * Feeding reply streams to the decoder the way a connection does, split at
 * every byte offset, and encoding helpers: shared by the text, meta and
 * binary protocol tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Status } from "../protocol/status.ts";
import { BinaryReplyParser } from "../protocol/binary.ts";
import type { SentKey } from "../protocol/keys.ts";
import type { AsciiText } from "../protocol/ascii.ts";
import type { Expect, Reply } from "../protocol/reply.ts";
import { TextReplyParser } from "../protocol/text_parser.ts";
import { ByteWriter } from "../protocol/writer.ts";

/** UTF-8 bytes of a string. */
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** The string of UTF-8 bytes (a key sent as a string is its own text). */
export const text = (b: Uint8Array | string): string =>
  typeof b === "string" ? b : new TextDecoder().decode(b);

/** What an encoder writes, as a string. */
export function encoded(write: (w: ByteWriter) => void): string {
  const w = new ByteWriter(4);
  write(w);
  return text(w.view());
}

/** How {@linkcode feed} decodes. */
export interface FeedOptions {
  /** The decoder's maxValueSize; 1 MiB unless given. */
  max?: number;
  /** Binary-protocol packets rather than text. */
  binary?: boolean;
  /** Flags of items a text decoder reads as text. */
  textFlags?: readonly number[];
  /** The keys a multi-key get asked for, in order. */
  keys?: readonly SentKey[];
  /** A runtime's way of reading ASCII bytes into strings, for a text decoder. */
  asciiText?: AsciiText;
}

/**
 * Feeds `stream` to a parser in chunks split at `cuts`, the way a
 * connection does (keeping the unconsumed tail), and returns every reply.
 */
export function feed(
  expects: Expect[],
  stream: Uint8Array,
  cuts: number[],
  { max = 1 << 20, binary = false, textFlags = [], keys, asciiText }: FeedOptions = {},
): Reply[] {
  const parser = binary
    ? new BinaryReplyParser(max)
    : new TextReplyParser(max, textFlags, asciiText);
  const replies: Reply[] = [];
  let buffer = new Uint8Array(0);
  let last = 0;
  for (const cut of [...cuts, stream.length]) {
    const chunk = stream.subarray(last, cut);
    last = cut;
    const joined = new Uint8Array(buffer.length + chunk.length);
    joined.set(buffer);
    joined.set(chunk, buffer.length);
    let start = 0;
    while (start < joined.length && replies.length < expects.length) {
      const reply = parser.parse(expects[replies.length], joined, start, joined.length, keys);
      start += parser.used;
      if (!reply) break;
      replies.push(reply);
      if (reply.status === Status.PROTOCOL_ERROR) return replies;
    }
    buffer = joined.slice(start);
  }
  return replies;
}

/** Every way of splitting `stream` in two gives the same replies as one chunk. */
export function splitEverywhere(expects: Expect[], stream: Uint8Array, binary = false): Reply[] {
  const whole = feed(expects, stream, [], { binary });
  for (let at = 0; at <= stream.length; at++) {
    assert.deepEqual(feed(expects, stream, [at], { binary }), whole, `split at ${at}`);
  }
  return whole;
}
