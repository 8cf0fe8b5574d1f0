/**
 * The binary protocol's side of the wire contract: the meta protocol's
 * commands sent as the binary requests that do the same (their responses
 * read as meta replies), and flush, stats and version as binary commands.
 *
 * @module
 */
import {
  encodeBinary,
  encodeBinaryFlush,
  encodeBinaryStats,
  encodeBinaryVersion,
  Opcode,
  words,
} from "./binary.ts";
import { keyBytes, type SentKey } from "./keys.ts";
import { type MetaCommand, metaWire } from "./meta.ts";
import { metaOnly } from "./text.ts";
import type { Wire } from "./wire.ts";
import type { ByteWriter, DataBlock } from "./writer.ts";

const meta = metaWire(encodeMetaAsBinary, { textGets: false, quietBatches: true });

/** The binary protocol's wire. */
export const binaryWire: Wire = {
  refuses(request) {
    if (request.kind === "dump") return "listKeys has no binary protocol form";
    return metaOnly(request);
  },
  opaques: meta.opaques,
  expect(request) {
    switch (request.kind) {
      case "flush":
      case "version":
        return "line";
      case "stats":
        return "stats";
      default:
        return meta.expect(request);
    }
  },
  encode(w, request, opaque) {
    switch (request.kind) {
      case "flush":
        return encodeBinaryFlush(w, request.delay);
      case "stats":
        return encodeBinaryStats(w, request.group);
      case "version":
        return encodeBinaryVersion(w);
      default:
        return meta.encode(w, request, opaque);
    }
  },
  read: meta.read,
};

const STORE_OPCODES: Record<string, [number, number]> = {
  S: [Opcode.SET, Opcode.SETQ],
  E: [Opcode.ADD, Opcode.ADDQ],
  R: [Opcode.REPLACE, Opcode.REPLACEQ],
  A: [Opcode.APPEND, Opcode.APPENDQ],
  P: [Opcode.PREPEND, Opcode.PREPENDQ],
};

/**
 * Encodes the binary request that does what the meta command `command` with
 * `flags` does: `mg` (`v`, `T<ttl>`, `q`) is get, gat or touch; `ms` (`M<mode>`,
 * `F<flags>`, `T<ttl>`, `C<cas>`, `q`) a storage command; `md` delete; `ma`
 * (`MI`/`MD`, `D<delta>`, `N<ttl>`, `J<initial>`, `q`) incr/decr; `mn` noop.
 * `O<n>` is the opaque number. Values, flags and cas tokens always come back,
 * so `f`, `c`, `k` and `v` of `ma` need no counterpart; flags the binary
 * protocol cannot express (`t`, `h`, `N` of `mg`, `I`, …) are not sent, so
 * callers must not use them here. Keys are sent as raw bytes.
 *
 * @example
 * ```ts
 * import { ByteWriter } from "./writer.ts";
 * import { encodeMetaAsBinary } from "./binary_wire.ts";
 * const w = new ByteWriter();
 * encodeMetaAsBinary(w, "mg", new TextEncoder().encode("k"), ["v", "f", "q", "O3"]);
 * // a GETKQ of "k" with opaque 3
 * ```
 */
export function encodeMetaAsBinary(
  w: ByteWriter,
  command: MetaCommand,
  sentKey: SentKey | undefined,
  flags: readonly string[],
  data?: DataBlock,
): void {
  const key = sentKey === undefined ? undefined : keyBytes(sentKey);
  // The binary header tells the value's size before the key: text is encoded first.
  const value = typeof data === "string" ? utf8.encode(data) : data;
  const f: Record<string, string> = {};
  for (const flag of flags) f[flag[0]] = flag.slice(1);
  const quiet = "q" in f;
  const opaque = Number(f.O ?? 0) >>> 0;
  const cas = f.C === undefined ? 0n : BigInt(f.C);
  const ttl = Number(f.T ?? 0);
  switch (command) {
    case "mn":
      return encodeBinary(w, { opcode: Opcode.NOOP, opaque });
    case "mg": {
      if (!("v" in f) && "T" in f) {
        return encodeBinary(w, { opcode: Opcode.TOUCH, key, extras: words(ttl), opaque });
      }
      if ("T" in f) {
        const opcode = quiet ? Opcode.GATKQ : Opcode.GAT;
        return encodeBinary(w, { opcode, key, extras: words(ttl), opaque });
      }
      return encodeBinary(w, { opcode: quiet ? Opcode.GETKQ : Opcode.GET, key, opaque });
    }
    case "ms": {
      const [loud, silent] = STORE_OPCODES[f.M ?? "S"] ?? STORE_OPCODES.S;
      const opcode = quiet ? silent : loud;
      const bare = opcode === Opcode.APPEND || opcode === Opcode.APPENDQ ||
        opcode === Opcode.PREPEND || opcode === Opcode.PREPENDQ;
      const extras = bare ? undefined : words(Number(f.F ?? 0), ttl);
      return encodeBinary(w, { opcode, key, extras, value, opaque, cas });
    }
    case "md":
      return encodeBinary(w, { opcode: quiet ? Opcode.DELETEQ : Opcode.DELETE, key, opaque, cas });
    case "ma": {
      const down = f.M === "D" || f.M === "d";
      const opcode = down
        ? (quiet ? Opcode.DECREMENTQ : Opcode.DECREMENT)
        : (quiet ? Opcode.INCREMENTQ : Opcode.INCREMENT);
      const extras = new Uint8Array(20);
      const view = new DataView(extras.buffer);
      view.setBigUint64(0, BigInt(f.D || 1));
      view.setBigUint64(8, BigInt(f.J || 0));
      // All ones: fail with "not found" instead of creating the counter.
      view.setUint32(16, "N" in f ? Number(f.N) : 0xffffffff);
      return encodeBinary(w, { opcode, key, extras, opaque, cas });
    }
    case "me":
      throw new TypeError("me has no binary counterpart");
  }
}

const utf8 = new TextEncoder();
