/**
 * The replies every protocol's decoder gives: what a request expects, the
 * items of a retrieval, and one complete reply with its {@linkcode Status}.
 * A leaf: the text, meta and binary decoders, the connection and the
 * client all speak in these types.
 *
 * @module
 */
import type { MetaReply } from "./meta.ts";
import type { SentKey } from "./keys.ts";
import type { Status } from "./status.ts";

/** One item of a metadump. */
export interface DumpEntry {
  /** The key, percent-decoded as UTF-8. */
  key: string;
  /** When it expires (Unix seconds), or -1 for never. */
  exp: number;
  /** When it was last accessed (Unix seconds). */
  la: number;
  /** Its cas token. */
  cas: bigint;
  /** Whether it was fetched since it was stored. */
  fetch: boolean;
  /** Its slab class. */
  cls: number;
  /** Its size in memory, in bytes. */
  size: number;
}

/** What kind of reply a request expects. */
export type Expect =
  /** `VALUE` items closed by `END` (get, gets). */
  | "values"
  /** `STAT` lines closed by `END` (stats). */
  | "stats"
  /** One line (storage, delete, incr/decr, touch, flush_all, version). */
  | "line"
  /** One meta reply (VA with its data, HD, EN, NS, EX, NF, MN, ME) or an error line. */
  | "meta"
  /** Meta replies of quiet commands, closed by MN; error lines among them are kept. */
  | "metaBatch"
  /** `key=… exp=… …` lines, each ended by LF alone, closed by `END` (lru_crawler metadump). */
  | "dump";

/** One item of a `get`/`gets` reply. */
export interface Item {
  /** The key as the server sent it: the very key asked for when it answers one, else a copy. */
  key: SentKey;
  /** The item's client flags. */
  flags: number;
  /** The data block, copied out of the read buffer; empty when {@linkcode text} holds it. */
  value: Uint8Array;
  /**
   * The data block as a string, in place of `value`: given when the item's
   * flags are among the parser's `textFlags` and any UTF-8 decoder would
   * read the same string from it (every byte ASCII, or, for a block read on
   * its own, valid UTF-8 without U+FFFD).
   */
  text?: string;
  /** The cas token, present for `gets`. */
  cas?: bigint;
  /** Which of the keys asked for this is, when the reply says (meta opaque). */
  index?: number;
}

/** A complete reply. */
export interface Reply {
  /**
   * The outcome: STORED, NOTSTORED, DATA_EXISTS, NOTFOUND, DELETED, SUCCESS
   * (TOUCHED, OK, VERSION, a number), END (after items or stats), ERROR,
   * CLIENT_ERROR, SERVER_ERROR, E2BIG, SERVER_MEMORY_ALLOCATION_FAILURE, or
   * PROTOCOL_ERROR for bytes that are not a reply.
   */
  status: Status;
  /** The reply line, e.g. `NOT_FOUND` or `CLIENT_ERROR bad data chunk`. */
  line: string;
  /** The items of a `values` reply. */
  items?: Item[];
  /** The `[name, value]` pairs of a `stats` reply. */
  stats?: [string, string][];
  /** The new value of an `incr`/`decr`. */
  number?: bigint;
  /** The version of a `version` reply. */
  version?: string;
  /** The reply of a `meta` request. */
  meta?: MetaReply;
  /** The replies of a `metaBatch` request, before its MN; error lines have code `ER`. */
  metas?: MetaReply[];
  /** The items of a `dump` reply. */
  dump?: DumpEntry[];
}
