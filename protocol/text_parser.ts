/**
 * {@linkcode TextReplyParser}: an incremental decoder of memcached's text
 * protocol replies (doc/protocol.txt), meta replies included.
 *
 * Pure: bytes in, replies out.
 *
 * @module
 */
import { isMetaLine, type MetaReply, metaStatus, parseMetaLine } from "./meta.ts";
import { Status } from "./status.ts";
import { copyOf } from "./slab.ts";
import type { SentKey } from "./keys.ts";
import type { AsciiText } from "./ascii.ts";
import type { DumpEntry, Expect, Item, Reply } from "./reply.ts";
import {
  ascii,
  bounds,
  CR,
  expectedHeader,
  findLineEnd,
  headerEnd,
  isErrorLine,
  keyAt,
  lastCas,
  lastFlags,
  LF,
  lineReply,
  ownSlice,
  parseDumpLine,
  parseValueHeader,
  startsWith,
  unexpected,
  wholeText,
} from "./text_lines.ts";

/** The longest reply line accepted; a longer one is a PROTOCOL_ERROR. */
export const MAX_LINE = 8 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * Decodes text-protocol replies from bytes as they arrive.
 *
 * Call {@linkcode parse} with the kind of reply the oldest request expects and
 * the bytes read so far. It returns the reply once it is complete, and says in
 * {@linkcode used} how many bytes it consumed: the caller keeps only the rest.
 * Items already consumed are held here, so the caller's buffer never needs
 * more than one item at a time, and an item announcing more than
 * `maxValueSize` bytes is a PROTOCOL_ERROR at once.
 *
 * Items with one of the `textFlags` get their data as a string (see
 * {@linkcode Item.text}) when it is ASCII: one decoder call reads every
 * such block that arrived together, which costs far less than a copy and
 * a decoder call per item.
 *
 * @example
 * ```ts
 * import { TextReplyParser } from "./text_parser.ts";
 * const parser = new TextReplyParser(1024);
 * const bytes = new TextEncoder().encode("STORED\r\n");
 * parser.parse("line", bytes, 0, bytes.length)?.line; // "STORED"
 * parser.used; // 8
 * ```
 */
export class TextReplyParser {
  /** Bytes consumed by the last {@linkcode parse} call. */
  used = 0;
  #items: Item[] = [];
  #stats: [string, string][] = [];
  #dump: DumpEntry[] = [];
  /** Where the search for the next item's key starts in the keys asked for. */
  #nextKey = 0;
  #metas: MetaReply[] = [];
  readonly #maxValueSize: number;
  readonly #textFlags: readonly number[];
  /** Items of this parse call waiting for their text, and their blocks' bounds. */
  #waiting: Item[] = [];
  #blocks: number[] = [];
  readonly #asciiText: AsciiText | undefined;

  /**
   * Makes a parser that refuses items larger than `maxValueSize` bytes and
   * reads the data of items flagged with one of `textFlags` as text;
   * `asciiText`, when given, reads the texts of items read together.
   */
  constructor(maxValueSize: number, textFlags: readonly number[] = [], asciiText?: AsciiText) {
    this.#maxValueSize = maxValueSize;
    this.#textFlags = textFlags;
    this.#asciiText = asciiText;
  }

  /** Whether no reply is partly read. */
  get idle(): boolean {
    return this.#items.length === 0 && this.#stats.length === 0 && this.#metas.length === 0 &&
      this.#dump.length === 0;
  }

  /** Drops a partly read reply, e.g. when its connection is closed. */
  reset(): void {
    this.#waiting = [];
    this.#blocks = [];
    this.#items = [];
    this.#stats = [];
    this.#metas = [];
    this.#dump = [];
    this.#nextKey = 0;
    this.used = 0;
  }

  /**
   * Parses from `buf[start, end)`. Returns the reply when it is complete,
   * else `undefined` (wait for more bytes). Either way {@linkcode used} tells
   * how many bytes from `start` were consumed. A PROTOCOL_ERROR reply means
   * the stream can no longer be trusted. `keys`, for a multi-key get, are the
   * keys asked for, in order: an item that answers one of them carries that
   * very key and its index.
   */
  parse(
    expect: Expect,
    buf: Uint8Array,
    start: number,
    end: number,
    keys?: readonly SentKey[],
  ): Reply | undefined {
    if (expect === "dump") return this.#parseDump(buf, start, end);
    let pos = start;
    this.used = 0;
    for (;;) {
      // The item most likely next names the next key asked for: check for
      // just that line, and parse any other line in full.
      let bytes = expect === "values" && keys !== undefined && this.#nextKey < keys.length
        ? expectedHeader(buf, pos, end, keys[this.#nextKey])
        : -1;
      let next = headerEnd;
      let named = this.#nextKey;
      if (bytes < 0) {
        const cr = findLineEnd(buf, pos, end);
        if (cr < 0) {
          if (end - pos > MAX_LINE) return this.#fail("reply line too long");
          this.used = pos - start;
          return this.#readTexts(buf);
        }
        if (cr + 1 >= end) {
          this.used = pos - start;
          return this.#readTexts(buf);
        }
        if (buf[cr + 1] !== LF) return this.#fail("CR not followed by LF");
        next = cr + 2;
        if (expect === "line") {
          this.used = next - start;
          return lineReply(buf, pos, cr);
        }
        if (expect === "meta" || expect === "metaBatch") {
          const after = this.#metaLine(expect, buf, start, pos, cr, end);
          if (typeof after !== "number") return after;
          pos = after;
          continue;
        }
        if (startsWith(buf, pos, cr, "END")) {
          this.used = next - start;
          this.#readTexts(buf);
          return this.#end(expect);
        }
        if (expect === "stats" && startsWith(buf, pos, cr, "STAT ")) {
          const line = ascii(buf, pos + 5, cr);
          const space = line.indexOf(" ");
          this.#stats.push(
            space < 0 ? [line, ""] : [line.slice(0, space), line.slice(space + 1)],
          );
          pos = next;
          continue;
        }
        if (expect !== "values" || !startsWith(buf, pos, cr, "VALUE ")) {
          const reply = lineReply(buf, pos, cr);
          this.reset();
          this.used = next - start;
          if (isErrorLine(reply.status)) return reply;
          return this.#fail(unexpected(reply));
        }
        const size = parseValueHeader(buf, pos + 6, cr);
        if (typeof size === "string") return this.#fail(size);
        bytes = size;
        named = -1;
      }
      const after = this.#takeItem(buf, next, bytes, end, keys, named);
      if (typeof after === "object") return after;
      if (after < 0) {
        this.used = pos - start;
        return this.#readTexts(buf);
      }
      pos = after;
    }
  }

  /**
   * Reads the meta reply whose line is `buf[pos, cr)`: returns where the
   * next reply of a batch starts when the batch goes on, else what
   * {@linkcode parse} returns, with `used` set.
   */
  #metaLine(
    expect: "meta" | "metaBatch",
    buf: Uint8Array,
    start: number,
    pos: number,
    cr: number,
    end: number,
  ): number | Reply | undefined {
    const next = cr + 2;
    let reply: MetaReply;
    let after = next;
    if (isMetaLine(buf, pos, cr)) {
      const parsed = parseMetaLine(buf, pos, cr);
      if (typeof parsed === "string") return this.#fail(parsed);
      reply = parsed.reply;
      if (parsed.size >= 0) {
        const blockEnd = this.#dataBlock(buf, next, parsed.size, end);
        if (typeof blockEnd === "object") return blockEnd;
        if (blockEnd < 0) {
          this.used = pos - start;
          return undefined;
        }
        const text = this.#textFlags.includes(Number(reply.flags.f ?? 0))
          ? wholeText(buf, next, next + parsed.size)
          : undefined;
        if (text === undefined) reply.value = copyOf(buf, next, next + parsed.size);
        else reply.text = text;
        after = blockEnd;
      }
    } else {
      const line = lineReply(buf, pos, cr);
      if (!isErrorLine(line.status)) {
        return this.#fail(unexpected(line));
      }
      if (expect === "meta") {
        this.used = next - start;
        return line;
      }
      reply = { code: "ER", flags: {}, debug: line.line, status: line.status };
      if (line.status === Status.AUTH_FAILURE) {
        // memcached answers nothing more on a connection it refused: no
        // MN will close the batch, so the refusal does.
        this.used = next - start;
        const metas = [...this.#metas, reply];
        this.#metas = [];
        return { status: Status.AUTH_FAILURE, line: line.line, metas };
      }
    }
    if (expect === "meta") {
      this.used = after - start;
      return { status: metaStatus(reply.code), line: reply.code, meta: reply };
    }
    if (reply.code !== "MN") {
      this.#metas.push(reply);
      return after;
    }
    this.used = after - start;
    const metas = this.#metas;
    this.#metas = [];
    return { status: Status.END, line: "MN", metas };
  }

  /**
   * Takes the item whose header (flags and cas in `lastFlags`, `lastCas`)
   * ends at `next`: returns where the line after its data block starts, -1
   * when the block has not all arrived, or a PROTOCOL_ERROR reply. `named`
   * is the index in `keys` of the key its header named, or -1 when it is
   * still to be found.
   */
  #takeItem(
    buf: Uint8Array,
    next: number,
    bytes: number,
    end: number,
    keys: readonly SentKey[] | undefined,
    named: number,
  ): number | Reply {
    const after = this.#dataBlock(buf, next, bytes, end);
    if (typeof after === "object" || after < 0) return after;
    const item: Item = { key: EMPTY, flags: lastFlags, value: EMPTY, cas: lastCas };
    if (this.#textFlags.includes(lastFlags)) {
      this.#waiting.push(item);
      this.#blocks.push(next, next + bytes);
    } else {
      // Only runs of text items share a decoder call: no bytes between them are decoded.
      this.#readTexts(buf);
      item.value = copyOf(buf, next, next + bytes);
    }
    if (named >= 0) {
      item.key = keys![named];
      item.index = named;
      this.#nextKey = named + 1;
    } else {
      this.#name(item, buf, keys);
    }
    this.#items.push(item);
    return after;
  }

  /**
   * Gives an item its key: the one in `keys` it answers (memcached answers
   * in the order asked, skipping misses), with that key's index, so that
   * nothing needs copying or decoding; or a copy of the key it names when
   * it answers none of them in order.
   */
  #name(item: Item, buf: Uint8Array, keys: readonly SentKey[] | undefined): void {
    const from = bounds[0];
    const length = bounds[1] - from;
    if (keys) {
      for (let at = this.#nextKey; at < keys.length; at++) {
        const key = keys[at];
        if (key.length !== length || !keyAt(buf, from, key)) continue;
        item.key = key;
        item.index = at;
        this.#nextKey = at + 1;
        return;
      }
    }
    item.key = copyOf(buf, from, from + length);
  }

  /**
   * Gives the items waiting for text theirs, while `buf` still holds their
   * blocks. A run of several values that is all ASCII is read once: with an
   * {@linkcode AsciiText}, straight into a string per value; without one,
   * by one decoder call from the first block to the last, each value's text
   * made from its part of it. Any other value (one read alone, or one of a
   * run that is not all ASCII) is decoded from its own bytes: it is text
   * when it is valid UTF-8 without U+FFFD, else it keeps a copy of its bytes.
   * Returns `undefined`, for the callers that return it next.
   */
  #readTexts(buf: Uint8Array): undefined {
    const waiting = this.#waiting;
    if (waiting.length === 0) return;
    const blocks = this.#blocks;
    const from = blocks[0];
    const to = blocks[blocks.length - 1];
    const ascii = this.#asciiText;
    const run = waiting.length === 1 || ascii ? undefined : wholeText(buf, from, to);
    if (ascii && waiting.length > 1 && ascii.isAscii(buf, from, to)) {
      for (let i = 0; i < waiting.length; i++) {
        waiting[i].text = ascii.text(buf, blocks[2 * i], blocks[2 * i + 1]);
      }
    } else if (run !== undefined && run.length === to - from) {
      // As many characters as bytes: all ASCII. Each item's text is a
      // string of its own, not a slice: a caller keeping one value would
      // keep the whole run alive through it.
      for (let i = 0; i < waiting.length; i++) {
        waiting[i].text = ownSlice(run, blocks[2 * i] - from, blocks[2 * i + 1] - from);
      }
    } else {
      for (let i = 0; i < waiting.length; i++) {
        const text = wholeText(buf, blocks[2 * i], blocks[2 * i + 1]);
        if (text === undefined) waiting[i].value = copyOf(buf, blocks[2 * i], blocks[2 * i + 1]);
        else waiting[i].text = text;
      }
    }
    waiting.length = 0;
    blocks.length = 0;
  }

  /** Parses metadump lines, which end in LF alone, up to `END`. */
  #parseDump(buf: Uint8Array, start: number, end: number): Reply | undefined {
    let pos = start;
    for (;;) {
      let lf = buf.indexOf(LF, pos);
      if (lf >= end) lf = -1;
      if (lf < 0) {
        if (end - pos > MAX_LINE) return this.#fail("reply line too long");
        this.used = pos - start;
        return undefined;
      }
      const to = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;
      const next = lf + 1;
      if (to - pos > 4 && ascii(buf, pos, pos + 4) === "key=") {
        const entry = parseDumpLine(ascii(buf, pos, to));
        if (!entry) {
          return this.#fail(`malformed metadump line ${JSON.stringify(ascii(buf, pos, to))}`);
        }
        this.#dump.push(entry);
        pos = next;
        continue;
      }
      this.used = next - start;
      if (to - pos === 3 && startsWith(buf, pos, to, "END")) {
        const dump = this.#dump;
        this.#dump = [];
        return { status: Status.END, line: "END", dump };
      }
      const reply = lineReply(buf, pos, to);
      this.reset();
      this.used = next - start;
      if (isErrorLine(reply.status)) return reply;
      return this.#fail(unexpected(reply));
    }
  }

  /**
   * Where the data block of `size` bytes at `from` ends, with its CR LF; -1
   * when it has not all arrived; a PROTOCOL_ERROR reply when it is larger
   * than maxValueSize or not closed by CR LF.
   */
  #dataBlock(buf: Uint8Array, from: number, size: number, end: number): number | Reply {
    if (size > this.#maxValueSize) {
      return this.#fail(`item of ${size} bytes is larger than maxValueSize ${this.#maxValueSize}`);
    }
    const dataEnd = from + size;
    if (dataEnd + 2 > end) return -1;
    if (buf[dataEnd] !== CR || buf[dataEnd + 1] !== LF) {
      return this.#fail("data block not followed by CR LF");
    }
    return dataEnd + 2;
  }

  #end(expect: Expect): Reply {
    const reply: Reply = expect === "values"
      ? { status: Status.END, line: "END", items: this.#items }
      : { status: Status.END, line: "END", stats: this.#stats };
    this.#items = [];
    this.#stats = [];
    this.#nextKey = 0;
    return reply;
  }

  #fail(why: string): Reply {
    this.reset();
    return { status: Status.PROTOCOL_ERROR, line: why };
  }
}
