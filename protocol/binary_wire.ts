/**
 * The binary protocol's side of the wire contract: the meta protocol's
 * commands sent as the binary requests that do the same (their responses
 * read as meta replies), and flush, stats and version as binary commands.
 *
 * @module
 */
import {
  encodeBinaryFlush,
  encodeBinaryStats,
  encodeBinaryVersion,
  encodeMetaAsBinary,
} from "./binary.ts";
import { metaWire } from "./meta.ts";
import type { Wire } from "./wire.ts";

const meta = metaWire(encodeMetaAsBinary, false);

/** The binary protocol's wire. */
export const binaryWire: Wire = {
  refuses(request) {
    if (request.kind === "dump") return "listKeys has no binary protocol form";
    if (request.kind === "retrieve" && request.details) {
      return "getWithMeta needs a server that speaks the meta protocol (memcached 1.6+)";
    }
    return meta.refuses(request);
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
