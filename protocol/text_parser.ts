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

const CR = 13;
const LF = 10;
/** The longest reply line accepted; a longer one is a PROTOCOL_ERROR. */
export const MAX_LINE = 8 * 1024;

const keyText = new TextDecoder();
/**
 * Reads ASCII as is; other bytes change the length or show U+FFFD. A
 * leading byte order mark stays, as a character of the text.
 */
const blockText = new TextDecoder("utf-8", { ignoreBOM: true });
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
          return this.#fail(`unexpected line ${JSON.stringify(reply.line)}`);
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
        return this.#fail(`unexpected line ${JSON.stringify(line.line)}`);
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
      return this.#fail(`unexpected line ${JSON.stringify(reply.line)}`);
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

function isErrorLine(status: Status): boolean {
  return status === Status.ERROR || status === Status.CLIENT_ERROR ||
    status === Status.SERVER_ERROR || status === Status.E2BIG ||
    status === Status.SERVER_MEMORY_ALLOCATION_FAILURE || status === Status.AUTH_FAILURE;
}

function findLineEnd(buf: Uint8Array, from: number, end: number): number {
  const cr = buf.indexOf(CR, from);
  return cr < 0 || cr >= end ? -1 : cr;
}

function startsWith(
  buf: Uint8Array,
  pos: number,
  end: number,
  word: string,
): boolean {
  if (end - pos < word.length) return false;
  for (let i = 0; i < word.length; i++) {
    if (buf[pos + i] !== word.charCodeAt(i)) return false;
  }
  return word.endsWith(" ") || end - pos === word.length;
}

function ascii(buf: Uint8Array, from: number, to: number): string {
  let text = "";
  for (let i = from; i < to; i++) text += String.fromCharCode(buf[i]);
  return text;
}

const lineStatus: Record<string, Status> = {
  STORED: Status.STORED,
  NOT_STORED: Status.NOTSTORED,
  EXISTS: Status.DATA_EXISTS,
  NOT_FOUND: Status.NOTFOUND,
  DELETED: Status.DELETED,
  TOUCHED: Status.SUCCESS,
  OK: Status.SUCCESS,
  END: Status.END,
  ERROR: Status.ERROR,
};

function lineReply(buf: Uint8Array, from: number, to: number): Reply {
  const line = ascii(buf, from, to);
  const known = lineStatus[line];
  if (known !== undefined) return { status: known, line };
  if (/^\d{1,20}$/.test(line)) {
    const number = BigInt(line);
    if (number < 2n ** 64n) return { status: Status.SUCCESS, line, number };
  }
  if (line.startsWith("VERSION ")) {
    return { status: Status.SUCCESS, line, version: line.slice(8) };
  }
  if (line.startsWith("ERROR ")) return { status: Status.ERROR, line };
  if (line.startsWith("CLIENT_ERROR")) {
    // memcached -Y: the connection has not authenticated, or its token was refused.
    if (/^CLIENT_ERROR (unauthenticated|authentication failure|bad authentication)/.test(line)) {
      return { status: Status.AUTH_FAILURE, line };
    }
    return { status: Status.CLIENT_ERROR, line };
  }
  if (line.startsWith("SERVER_ERROR")) {
    if (line.includes("too large")) return { status: Status.E2BIG, line };
    if (line.includes("out of memory")) {
      return { status: Status.SERVER_MEMORY_ALLOCATION_FAILURE, line };
    }
    return { status: Status.SERVER_ERROR, line };
  }
  return {
    status: Status.PROTOCOL_ERROR,
    line: `unexpected line ${JSON.stringify(line)}`,
  };
}

/** A metadump line's fields, or `undefined` when one is missing or malformed. */
function parseDumpLine(line: string): DumpEntry | undefined {
  const fields: Record<string, string> = {};
  for (const pair of line.split(" ")) {
    const eq = pair.indexOf("=");
    if (eq > 0) fields[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const numbers = ["exp", "la", "cls", "size"].map((name) => Number(fields[name]));
  if (numbers.some((n) => !Number.isInteger(n)) || !/^\d{1,20}$/.test(fields.cas ?? "")) {
    return undefined;
  }
  const key = percentDecode(fields.key ?? "");
  if (key === undefined) return undefined;
  const [exp, la, cls, size] = numbers;
  return { key, exp, la, cas: BigInt(fields.cas), fetch: fields.fetch === "yes", cls, size };
}

/** `%XX`-decoded text as UTF-8 (invalid sequences become U+FFFD), or `undefined` for a bad escape. */
function percentDecode(text: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "%") {
      bytes.push(text.charCodeAt(i) & 0xff);
      continue;
    }
    const byte = parseInt(text.slice(i + 1, i + 3), 16);
    if (!/^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) return undefined;
    bytes.push(byte);
    i += 2;
  }
  return keyText.decode(new Uint8Array(bytes));
}

/** Token bounds of the VALUE line being parsed: start, end, start, end, … */
const bounds = new Int32Array(10);
/** The flags and cas of the VALUE line last parsed. */
let lastFlags = 0;
let lastCas: bigint | undefined;

/**
 * Parses `<key> <flags> <bytes> [<cas>]` of a VALUE line: the data block's
 * size, with the key's bounds, flags and cas left in `bounds`, `lastFlags`
 * and `lastCas`, so that nothing is allocated until the item is complete.
 */
function parseValueHeader(buf: Uint8Array, from: number, to: number): number | string {
  let count = 0;
  let i = from;
  while (i < to && count < 5) {
    const s = i;
    while (i < to && buf[i] !== 32) i++;
    if (i === s) return "malformed VALUE line";
    bounds[2 * count] = s;
    bounds[2 * count + 1] = i;
    count++;
    if (i < to) i++;
  }
  if (i < to || buf[to - 1] === 32 || count < 3 || count > 4) {
    return "malformed VALUE line";
  }
  const flags = digits(buf, bounds[2], bounds[3], 10);
  const bytes = digits(buf, bounds[4], bounds[5], 10);
  if (flags === undefined || flags > 0xffffffff || bytes === undefined) {
    return "malformed VALUE line";
  }
  lastFlags = flags;
  lastCas = undefined;
  if (count === 4) {
    const text = ascii(buf, bounds[6], bounds[7]);
    if (!/^\d{1,20}$/.test(text)) return "malformed VALUE line";
    lastCas = BigInt(text);
  }
  return bytes;
}

/** Where the line ends (after its CR LF) that {@linkcode expectedHeader} last matched. */
let headerEnd = 0;

/**
 * The data block's size when `buf` at `pos` holds exactly
 * `VALUE <key> <flags> <bytes>\r\n` for this key (flags left in `lastFlags`,
 * the line's end in `headerEnd`), else -1: any other line, or one not all
 * arrived yet, is for the full parse.
 */
function expectedHeader(buf: Uint8Array, pos: number, end: number, key: SentKey): number {
  let at = pos + 6 + key.length;
  if (at >= end || buf[at] !== 32) return -1;
  for (let i = 0; i < 6; i++) {
    if (buf[pos + i] !== VALUE_[i]) return -1;
  }
  if (!keyAt(buf, pos + 6, key)) return -1;
  const flags = leadingNumber(buf, at + 1, end);
  at = numberEnd;
  if (flags < 0 || flags > 0xffffffff || at >= end || buf[at] !== 32) return -1;
  const bytes = leadingNumber(buf, at + 1, end);
  at = numberEnd;
  if (bytes < 0 || at + 1 >= end || buf[at] !== CR || buf[at + 1] !== LF) return -1;
  lastFlags = flags;
  lastCas = undefined;
  headerEnd = at + 2;
  return bytes;
}

const VALUE_ = [86, 65, 76, 85, 69, 32];

/**
 * `buf[from, to)` as text when it is valid UTF-8 without U+FFFD, which any
 * decoder reads the same; else `undefined`.
 */
function wholeText(buf: Uint8Array, from: number, to: number): string | undefined {
  const text = blockText.decode(buf.subarray(from, to));
  return text.includes("\uFFFD") ? undefined : text;
}

/**
 * `text[from, to)` as a string that does not keep `text` alive. V8 and
 * JavaScriptCore make a slice of more than a few characters a view of its
 * string; reading a character of two slices joined makes them flatten the
 * pair into a string of its own, after which neither slice is held.
 */
function ownSlice(text: string, from: number, to: number): string {
  const middle = (from + to) >>> 1;
  const joined = text.slice(from, middle) + text.slice(middle, to);
  // A comparison the compiler cannot decide keeps the read that flattens.
  return joined.charCodeAt(0) === text.charCodeAt(from) ? joined : text.slice(from, to);
}

/** Whether `buf` holds `key` at `from` (the caller has checked there is room). */
function keyAt(buf: Uint8Array, from: number, key: SentKey): boolean {
  if (typeof key === "string") {
    for (let i = 0; i < key.length; i++) if (buf[from + i] !== key.charCodeAt(i)) return false;
  } else {
    for (let i = 0; i < key.length; i++) if (buf[from + i] !== key[i]) return false;
  }
  return true;
}

/** Where the digits that {@linkcode leadingNumber} last read end. */
let numberEnd = 0;

/** The number of the 1 to 10 digits at `from`, or -1 when there are none or more. */
function leadingNumber(buf: Uint8Array, from: number, end: number): number {
  let n = 0;
  let at = from;
  for (; at < end && at - from <= 10; at++) {
    const d = buf[at] - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  numberEnd = at;
  return at === from || at - from > 10 ? -1 : n;
}

function digits(
  buf: Uint8Array,
  from: number,
  to: number,
  maxDigits: number,
): number | undefined {
  if (to - from > maxDigits) return undefined;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return n;
}
