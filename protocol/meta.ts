/**
 * memcached's meta protocol (1.6+): encoders for `mg`, `ms`, `md`, `ma`,
 * `mn` and `me`, and the decoder of their replies.
 *
 * A meta command is `<cmd> <key> [<datalen>] <flag>*`; a flag is one letter
 * with an optional token (`v`, `T60`, `O17`, `MS`, `C123`). A reply is a
 * two-letter code with flags (`HD c5 O17`), and for `VA` a data block.
 * Pure: bytes in, replies out.
 *
 * @module
 */
import { Status } from "./status.ts";
import type { ByteWriter, DataBlock } from "./writer.ts";
import type { SentKey } from "./keys.ts";

/** The meta commands. */
export type MetaCommand = "mg" | "ms" | "md" | "ma" | "mn" | "me";

/**
 * Encodes a meta command. `key` is sent as given (already base64 when
 * `base64`, which adds the `b` flag); `data` is the value of an `ms`.
 *
 * @example
 * ```ts
 * import { ByteWriter } from "./writer.ts";
 * import { encodeMeta } from "./meta.ts";
 * const w = new ByteWriter();
 * encodeMeta(w, "mg", new TextEncoder().encode("k"), ["v", "f", "O1"]);
 * // "mg k v f O1\r\n"
 * ```
 */
export function encodeMeta(
  w: ByteWriter,
  command: MetaCommand,
  key: SentKey | undefined,
  flags: readonly string[],
  data?: DataBlock,
  base64 = false,
): void {
  // Few writer calls: the text around the key is written as one string each.
  let rest = base64 ? " b" : "";
  for (let i = 0; i < flags.length; i++) rest += " " + flags[i];
  if (data === undefined) return metaLine(w, command, key, rest);
  w.block(data, (size) => metaLine(w, command, key, ` ${size}${rest}`));
  w.ascii("\r\n");
}

/** Writes a meta command line: the command, the key if any, then `rest`. */
function metaLine(
  w: ByteWriter,
  command: MetaCommand,
  key: SentKey | undefined,
  rest: string,
): void {
  if (key) {
    w.ascii(command + " ");
    w.key(key);
    w.ascii(rest + "\r\n");
  } else w.ascii(command + rest + "\r\n");
}

/** The two-letter codes of meta replies. */
export type MetaCode = "VA" | "HD" | "EN" | "NS" | "EX" | "NF" | "MN" | "ME";

/** One meta reply. */
export interface MetaReply {
  /**
   * VA (a value follows), HD (done), EN (miss), NS (not stored), EX (cas
   * mismatch), NF (not found), MN (no-op), ME (debug); ER for an error line
   * among quiet replies.
   */
  code: MetaCode | "ER";
  /** The returned flags by letter, e.g. `{ c: "5", O: "17", b: "" }`. */
  flags: Record<string, string>;
  /** The data block of a VA reply, copied out of the read buffer, unless `text` holds it. */
  value?: Uint8Array;
  /**
   * The data block of a VA reply as a string, in place of `value`: given
   * when its `f` flags are among the decoder's `textFlags` and it is valid
   * UTF-8 without U+FFFD, so that any decoder would read the same string.
   */
  text?: string;
  /** The rest of an ME line (`key=value` pairs), or an ER reply's error line. */
  debug?: string;
  /** An ER reply's status (CLIENT_ERROR, SERVER_ERROR, ERROR, …). */
  status?: Status;
}

const STATUS: Record<MetaCode, Status> = {
  VA: Status.SUCCESS,
  HD: Status.SUCCESS,
  EN: Status.NOTFOUND,
  NS: Status.NOTSTORED,
  EX: Status.DATA_EXISTS,
  NF: Status.NOTFOUND,
  MN: Status.END,
  ME: Status.SUCCESS,
};

/** The status of a meta reply code. */
export function metaStatus(code: MetaCode | "ER"): Status {
  return code === "ER" ? Status.FAILURE : STATUS[code];
}

/** Whether a reply line starts with a meta code. */
export function isMetaLine(buf: Uint8Array, from: number, to: number): boolean {
  if (to - from < 2 || (to - from > 2 && buf[from + 2] !== 32)) return false;
  // The codes as two bytes, compared without making a string.
  switch ((buf[from] << 8) | buf[from + 1]) {
    case 0x5641: // VA
    case 0x4844: // HD
    case 0x454e: // EN
    case 0x4e53: // NS
    case 0x4558: // EX
    case 0x4e46: // NF
    case 0x4d4e: // MN
    case 0x4d45: // ME
      return true;
    default:
      return false;
  }
}

/**
 * Parses the meta reply line `buf[from, to)` (without CR LF). Returns the
 * reply and, for VA, the size of the data block that follows; or a string
 * saying why the line is malformed.
 */
export function parseMetaLine(
  buf: Uint8Array,
  from: number,
  to: number,
): { reply: MetaReply; size: number } | string {
  const code = String.fromCharCode(buf[from], buf[from + 1]) as MetaCode;
  if (code === "ME") {
    return { reply: { code, flags: {}, debug: ascii(buf, from + 3, to) }, size: -1 };
  }
  let at = from + 3;
  let size = -1;
  if (code === "VA") {
    size = 0;
    const start = at;
    while (at < to && buf[at] !== 32) {
      const digit = buf[at++] - 48;
      if (digit < 0 || digit > 9) return "malformed VA line";
      size = size * 10 + digit;
    }
    if (at === start || at - start > 10) return "malformed VA line";
    at++;
  }
  const flags: Record<string, string> = {};
  while (at < to) {
    const start = at;
    while (at < to && buf[at] !== 32) at++;
    const letter = buf[start];
    if (at === start || !((letter >= 65 && letter <= 90) || (letter >= 97 && letter <= 122))) {
      return `malformed flag in ${JSON.stringify(ascii(buf, from, to))}`;
    }
    flags[String.fromCharCode(letter)] = ascii(buf, start + 1, at);
    at++;
  }
  return { reply: { code, flags }, size };
}

function ascii(buf: Uint8Array, from: number, to: number): string {
  let text = "";
  for (let i = from; i < to; i++) text += String.fromCharCode(buf[i]);
  return text;
}
