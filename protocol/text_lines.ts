/**
 * The pieces of a text-protocol reply the parser reads with: reply lines
 * and their statuses, VALUE headers, metadump lines, and the few byte
 * scans it repeats. Module state (`lastFlags`, `headerEnd`, …) holds what
 * the last scan found, so that the hot path allocates nothing.
 *
 * @module
 */
import type { SentKey } from "./keys.ts";
import type { DumpEntry, Reply } from "./reply.ts";
import { Status } from "./status.ts";

export const CR = 13;
export const LF = 10;
export const keyText = new TextDecoder();
/**
 * Reads ASCII as is; other bytes change the length or show U+FFFD. A
 * leading byte order mark stays, as a character of the text.
 */
export const blockText = new TextDecoder("utf-8", { ignoreBOM: true });

export function isErrorLine(status: Status): boolean {
  return status === Status.ERROR || status === Status.CLIENT_ERROR ||
    status === Status.SERVER_ERROR || status === Status.E2BIG ||
    status === Status.SERVER_MEMORY_ALLOCATION_FAILURE || status === Status.AUTH_FAILURE;
}

export function findLineEnd(buf: Uint8Array, from: number, end: number): number {
  const cr = buf.indexOf(CR, from);
  return cr < 0 || cr >= end ? -1 : cr;
}

export function startsWith(
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

export function ascii(buf: Uint8Array, from: number, to: number): string {
  let text = "";
  for (let i = from; i < to; i++) text += String.fromCharCode(buf[i]);
  return text;
}

export const lineStatus: Record<string, Status> = {
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

export function lineReply(buf: Uint8Array, from: number, to: number): Reply {
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

/** Why `reply`, a whole line, cannot answer what was asked: said once. */
export function unexpected(reply: Reply): string {
  return reply.status === Status.PROTOCOL_ERROR
    ? reply.line
    : `unexpected line ${JSON.stringify(reply.line)}`;
}

/** A metadump line's fields, or `undefined` when one is missing or malformed. */
export function parseDumpLine(line: string): DumpEntry | undefined {
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
export function percentDecode(text: string): string | undefined {
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
export const bounds = new Int32Array(10);
/** The flags and cas of the VALUE line last parsed. */
export let lastFlags = 0;
export let lastCas: bigint | undefined;

/**
 * Parses `<key> <flags> <bytes> [<cas>]` of a VALUE line: the data block's
 * size, with the key's bounds, flags and cas left in `bounds`, `lastFlags`
 * and `lastCas`, so that nothing is allocated until the item is complete.
 */
export function parseValueHeader(buf: Uint8Array, from: number, to: number): number | string {
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
export let headerEnd = 0;

/**
 * The data block's size when `buf` at `pos` holds exactly
 * `VALUE <key> <flags> <bytes>\r\n` for this key (flags left in `lastFlags`,
 * the line's end in `headerEnd`), else -1: any other line, or one not all
 * arrived yet, is for the full parse.
 */
export function expectedHeader(buf: Uint8Array, pos: number, end: number, key: SentKey): number {
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

export const VALUE_ = [86, 65, 76, 85, 69, 32];

/**
 * `buf[from, to)` as text when it is valid UTF-8 without U+FFFD, which any
 * decoder reads the same; else `undefined`.
 */
export function wholeText(buf: Uint8Array, from: number, to: number): string | undefined {
  const text = blockText.decode(buf.subarray(from, to));
  return text.includes("\uFFFD") ? undefined : text;
}

/**
 * `text[from, to)` as a string that does not keep `text` alive. V8 and
 * JavaScriptCore make a slice of more than a few characters a view of its
 * string; reading a character of two slices joined makes them flatten the
 * pair into a string of its own, after which neither slice is held.
 */
export function ownSlice(text: string, from: number, to: number): string {
  const middle = (from + to) >>> 1;
  const joined = text.slice(from, middle) + text.slice(middle, to);
  // A comparison the compiler cannot decide keeps the read that flattens.
  return joined.charCodeAt(0) === text.charCodeAt(from) ? joined : text.slice(from, to);
}

/** Whether `buf` holds `key` at `from` (the caller has checked there is room). */
export function keyAt(buf: Uint8Array, from: number, key: SentKey): boolean {
  if (typeof key === "string") {
    for (let i = 0; i < key.length; i++) if (buf[from + i] !== key.charCodeAt(i)) return false;
  } else {
    for (let i = 0; i < key.length; i++) if (buf[from + i] !== key[i]) return false;
  }
  return true;
}

/** Where the digits that {@linkcode leadingNumber} last read end. */
export let numberEnd = 0;

/** The number of the 1 to 10 digits at `from`, or -1 when there are none or more. */
export function leadingNumber(buf: Uint8Array, from: number, end: number): number {
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

export function digits(
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
