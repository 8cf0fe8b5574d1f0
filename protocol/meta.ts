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
import type { Item, Reply } from "./reply.ts";
import { type StoreVerb, textWire } from "./text.ts";
import type {
  Answer,
  Arithmetic,
  Batch,
  Remove,
  Request,
  Retrieve,
  Store,
  Touch,
  Wire,
} from "./wire.ts";

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

/**
 * Writes one meta command: as meta text, or as the binary request that does
 * the same (see `encodeMetaAsBinary`). `key` is the key as sent.
 */
export type Emit = (
  w: ByteWriter,
  command: MetaCommand,
  key: SentKey | undefined,
  flags: string[],
  data?: DataBlock,
) => void;

/** The flags of an `ms` for a storage verb. */
export function storeFlags(verb: StoreVerb, flags: number, ttl: number, cas?: bigint): string[] {
  // Client flags 0, no expiry and mode S are what the server assumes: not sent.
  const out = flags === 0 ? [] : [`F${flags}`];
  if (ttl !== 0) out.push(`T${ttl}`);
  if (verb !== "set" && verb !== "cas") out.push(`M${MODES[verb]}`);
  if (cas !== undefined) out.push(`C${cas}`);
  return out;
}

const MODES = { add: "E", replace: "R", append: "A", prepend: "P" };

/** An item from a VA reply for key `key`. */
export function itemOf(key: SentKey, meta: MetaReply): Item {
  return {
    key,
    flags: Number(meta.flags.f ?? 0),
    value: meta.value ?? NO_BYTES,
    text: meta.text,
    cas: meta.flags.c === undefined ? undefined : BigInt(meta.flags.c),
  };
}

const NO_BYTES = new Uint8Array(0);

/** Meta reply codes said as the text protocol says them, for error messages. */
const TEXT_OF: Record<string, string> = {
  NF: "NOT_FOUND",
  EN: "NOT_FOUND",
  NS: "NOT_STORED",
  EX: "EXISTS",
};

/** What each code means for each kind of keyed request. */
const MEANING: Partial<Record<Request["kind"], Partial<Record<string, Status>>>> = {
  store: {
    HD: Status.STORED,
    NS: Status.NOTSTORED,
    EX: Status.DATA_EXISTS,
    NF: Status.NOTFOUND,
  },
  remove: { HD: Status.DELETED, NF: Status.NOTFOUND },
  touch: { HD: Status.SUCCESS, EN: Status.NOTFOUND },
  arithmetic: { NF: Status.NOTFOUND },
};

/**
 * The meta protocol's side of the wire contract, writing its commands with
 * `emit`. With `textGets`, a retrieval of several keys is one text `get`
 * (as quiet as a batch of `mg`, cheaper to encode and parse, and its items
 * name their keys); without (base64 keys, the binary protocol), a quiet
 * `mg` per key closed by `mn`. Flush, stats, version and dump are the text
 * commands, which a meta server takes too.
 *
 * With `quietBatches`, the writes of a batch are quiet: only failures answer,
 * each naming its request by opaque, as binary errors do. Without, every
 * write answers, in order: a meta ER line names no opaque, and only its place
 * says which write the server refused.
 */
export function metaWire(
  emit: Emit,
  { textGets, quietBatches }: { textGets: boolean; quietBatches: boolean },
): Wire {
  const many = (request: Request) =>
    request.kind === "retrieve" && request.keys.length > 1 && !textGets;
  return {
    // A meta server takes every request: those without meta commands as text.
    refuses: () => undefined,
    opaques(request) {
      switch (request.kind) {
        case "retrieve":
          return request.keys.length === 1 || !textGets ? request.keys.length : 0;
        case "batch":
          return request.requests.length;
        case "store":
        case "remove":
        case "arithmetic":
        case "touch":
          return 1;
        default:
          return 0;
      }
    },
    expect(request) {
      switch (request.kind) {
        case "retrieve":
          return request.keys.length === 1 ? "meta" : textGets ? "values" : "metaBatch";
        case "batch":
          return "metaBatch";
        case "store":
        case "remove":
        case "arithmetic":
        case "touch":
          return "meta";
        default:
          return textWire.expect(request);
      }
    },
    encode(w, request, opaque) {
      switch (request.kind) {
        case "retrieve": {
          const keys = request.keys;
          if (keys.length === 1) return emit(w, "mg", keys[0], getFlags(request, opaque));
          if (textGets) return textWire.encode(w, request, opaque);
          for (let i = 0; i < keys.length; i++) {
            emit(w, "mg", keys[i], ["v", "f", "q", `O${(opaque + i) >>> 0}`]);
          }
          return emit(w, "mn", undefined, []);
        }
        case "batch": {
          const quiet = quietBatches || request.quiet;
          request.requests.forEach((one, i) =>
            write(
              emit,
              w,
              one,
              quiet ? ["q", `O${(opaque + i) >>> 0}`] : [`O${(opaque + i) >>> 0}`],
            )
          );
          return emit(w, "mn", undefined, []);
        }
        case "store":
        case "remove":
        case "arithmetic":
        case "touch":
          return write(emit, w, request, [`O${opaque}`]);
        default:
          return textWire.encode(w, request, opaque);
      }
    },
    read(reply, request, opaque) {
      if (request.kind === "batch") {
        return readBatch(reply, request, opaque, !quietBatches && !request.quiet);
      }
      if (many(request)) return readGets(reply, request as Retrieve, opaque);
      const meta = reply.meta;
      if (!meta) return reply;
      if (request.kind === "retrieve") {
        if (meta.code === "EN") return { status: Status.END, line: "EN", items: [] };
        if (meta.code === "VA") {
          const item = itemOf(request.keys[0], meta);
          item.index = 0;
          return { status: Status.END, line: "VA", items: [item], meta };
        }
      } else if (request.kind === "arithmetic" && meta.code === "VA") {
        const digits = meta.value ? String.fromCharCode(...meta.value) : meta.text;
        if (digits) return { status: Status.SUCCESS, line: "VA", number: BigInt(digits) };
      } else {
        const status = MEANING[request.kind]?.[meta.code];
        if (status !== undefined) return { status, line: TEXT_OF[meta.code] ?? meta.code };
      }
      return failure(reply.status, meta);
    },
  };
}

/** The flags of a single-key `mg`. */
function getFlags(request: Retrieve, opaque: number): string[] {
  const claim = request.claim;
  if (claim) {
    const flags = ["v", "f", "c", "t", `N${claim.ttl}`];
    if (claim.recache !== undefined) flags.push(`R${claim.recache}`);
    flags.push(`O${opaque}`);
    return flags;
  }
  if (request.details) return ["v", "f", "c", "t", "h", `O${opaque}`];
  const flags = ["v", "f"];
  if (request.cas) flags.push("c");
  if (request.ttl !== undefined) flags.push(`T${request.ttl}`);
  flags.push(`O${opaque}`);
  return flags;
}

/** Emits one keyed write (or touch) with `extra` flags after its own. */
function write(
  emit: Emit,
  w: ByteWriter,
  request: Store | Remove | Arithmetic | Touch,
  extra: string[],
): void {
  switch (request.kind) {
    case "store": {
      const { verb, flags, ttl, cas } = request;
      return emit(
        w,
        "ms",
        request.key,
        [...storeFlags(verb, flags, ttl, cas), ...extra],
        request.data,
      );
    }
    case "remove":
      return emit(
        w,
        "md",
        request.key,
        request.stale === undefined ? extra : ["I", `T${request.stale}`, ...extra],
      );
    case "arithmetic":
      return emit(w, "ma", request.key, [
        request.verb === "incr" ? "MI" : "MD",
        `D${request.delta}`,
        "v",
        ...extra,
      ]);
    case "touch":
      return emit(w, "mg", request.key, [`T${request.ttl}`, ...extra]);
  }
}

/** The failure a meta reply stands for. */
function failure(status: Status, meta: MetaReply): Answer {
  return { status, line: meta.debug ?? TEXT_OF[meta.code] ?? meta.code };
}

/** The hits of quiet `mg`s, each placed by its opaque token. */
function readGets(reply: Reply, request: Retrieve, opaque: number): Answer {
  if (!reply.metas || reply.status !== Status.END) return reply;
  const items: Item[] = [];
  for (const meta of reply.metas) {
    const at = (Number(meta.flags.O) - opaque) >>> 0;
    const key = request.keys[at];
    if (meta.code !== "VA" || key === undefined) {
      return {
        status: meta.status ?? Status.PROTOCOL_ERROR,
        line: meta.debug ?? `unexpected ${meta.code} in a multi-get`,
      };
    }
    const item = itemOf(key, meta);
    item.index = at;
    items.push(item);
  }
  return { status: Status.END, line: "END", items };
}

/**
 * The answers of a batch, each placed by its opaque token, or `inOrder` (every
 * write answers) by its place, which is all an ER line has.
 */
function readBatch(reply: Reply, request: Batch, opaque: number, inOrder: boolean): Answer {
  if (!reply.metas || reply.status !== Status.END) return reply;
  if (inOrder && reply.metas.length !== request.requests.length) {
    return {
      status: Status.PROTOCOL_ERROR,
      line: `${reply.metas.length} answers to ${request.requests.length} writes`,
    };
  }
  const answers = new Map<number, Answer>();
  for (const [place, meta] of reply.metas.entries()) {
    const named = meta.flags.O === undefined ? undefined : (Number(meta.flags.O) - opaque) >>> 0;
    // An ER line names no opaque: its place says which write it answers
    // when every write answers, or when there is only one.
    const at = inOrder ? place : named ?? (request.requests.length === 1 ? 0 : -1);
    const one = request.requests[at];
    if (one === undefined || (named !== undefined && named !== at)) {
      return {
        status: meta.status ?? Status.PROTOCOL_ERROR,
        line: meta.debug ?? `${meta.code} for no write of this batch`,
      };
    }
    if (meta.code === "ER") {
      answers.set(at, { status: meta.status ?? Status.SERVER_ERROR, line: meta.debug ?? "ER" });
      continue;
    }
    const status = MEANING[one.kind]?.[meta.code];
    answers.set(
      at,
      status === undefined ? failure(metaStatus(meta.code), meta) : {
        status,
        line: TEXT_OF[meta.code] ?? meta.code,
      },
    );
  }
  return { status: Status.SUCCESS, line: "MN", answers };
}
