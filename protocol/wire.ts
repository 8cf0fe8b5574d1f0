/**
 * The wire contract every protocol implements once (text.ts, meta.ts,
 * binary_wire.ts): for each kind of {@linkcode Request}, the bytes to send
 * and how to read the reply into an {@linkcode Answer}, whose status means
 * the same whatever the protocol. The client describes each operation once
 * as a request; the router picks the wire of the server it talks to.
 *
 * @module
 */
import type { SentKey } from "./keys.ts";
import type { MetaReply } from "./meta.ts";
import type { DumpEntry, Expect, Item, Reply } from "./reply.ts";
import type { Status } from "./status.ts";
import type { StoreVerb } from "./text.ts";
import type { ByteWriter, DataBlock } from "./writer.ts";

/**
 * Values of one or more keys: `cas` asks for their cas tokens, `ttl` sets
 * their ttl at once (get-and-touch), `details` asks for what the meta
 * protocol knows of the item (its ttl left, whether it was read before).
 */
export interface Retrieve {
  kind: "retrieve";
  keys: readonly SentKey[];
  cas?: boolean;
  ttl?: number;
  details?: boolean;
  /** For one key, over meta: claim the right to compute it (see {@linkcode Claim}). */
  claim?: Claim;
}

/**
 * A retrieval that decides, on the server, which caller computes a value
 * (meta `mg` with `N` and `R`): a miss creates an empty placeholder that
 * lives `ttl` seconds and the first caller is told it won (`W` in the
 * reply's flags); later callers are told another one is computing (`Z`).
 * With `recache`, the first caller to read a value with fewer than
 * `recache` seconds left wins too; a value marked stale (`X`) is won once.
 */
export interface Claim {
  ttl: number;
  recache?: number;
}

/** One item stored by `verb`, with its client `flags`, `ttl` and, for cas, its token. */
export interface Store {
  kind: "store";
  verb: StoreVerb;
  key: Uint8Array;
  data: DataBlock;
  flags: number;
  ttl: number;
  cas?: bigint;
}

/**
 * One key deleted; with `stale`, over meta, marked stale instead (`md` with
 * `I`): it is served, flagged stale, for `stale` more seconds, while the
 * first caller that claims it computes it again.
 */
export interface Remove {
  kind: "remove";
  key: Uint8Array;
  stale?: number;
}

/** A counter moved by an unsigned 64-bit `delta`. */
export interface Arithmetic {
  kind: "arithmetic";
  verb: "incr" | "decr";
  key: Uint8Array;
  delta: bigint;
}

/** A key's ttl set. */
export interface Touch {
  kind: "touch";
  key: Uint8Array;
  ttl: number;
}

/**
 * Writes to many keys in one request, closed by a no-op. With `quiet`,
 * only failures are answered (a write the caller does not wait for).
 */
export interface Batch {
  kind: "batch";
  requests: readonly (Store | Remove | Touch)[];
  quiet?: boolean;
}

/** Every item invalidated, after `delay` seconds. */
export interface Flush {
  kind: "flush";
  delay: number;
}

/** A server's statistics, or those of one `group`. */
export interface Stats {
  kind: "stats";
  group?: Uint8Array;
}

/** A server's version. */
export interface Version {
  kind: "version";
}

/** Every key a server holds (`lru_crawler metadump all`). */
export interface Dump {
  kind: "dump";
}

/** Everything a client asks of a server. */
export type Request =
  | Retrieve
  | Store
  | Remove
  | Arithmetic
  | Touch
  | Batch
  | Flush
  | Stats
  | Version
  | Dump;

/**
 * A reply read for its request. `status` says the same in every protocol:
 * END for a retrieval (its hits in `items`), STORED, NOTSTORED,
 * DATA_EXISTS or NOTFOUND for a store, DELETED or NOTFOUND for a remove,
 * SUCCESS with `number` for arithmetic, SUCCESS or NOTFOUND for a touch,
 * SUCCESS for a flush or a batch, END with `stats` or `dump`, SUCCESS with
 * `version`; any other status is a failure, which `line` describes.
 */
export interface Answer {
  status: Status;
  /** What the server said, as the text protocol says it: for error messages. */
  line: string;
  /** The hits of a retrieval. */
  items?: Item[];
  /** For a retrieval with `details`, the meta reply of its one key. */
  meta?: MetaReply;
  /** The new value of a counter. */
  number?: bigint;
  /** The `[name, value]` pairs of stats. */
  stats?: [string, string][];
  /** A server's version. */
  version?: string;
  /** The entries of a dump. */
  dump?: DumpEntry[];
  /** For a batch: the answer of each request that was answered, by its place. */
  answers?: Map<number, Answer>;
}

/** One protocol's side of the contract. */
export interface Wire {
  /** Why this protocol cannot carry `request`, or `undefined` when it can. */
  refuses(request: Request): string | undefined;
  /** How many opaque tokens the request needs (0 where replies carry none). */
  opaques(request: Request): number;
  /** The kind of reply the request gets. */
  expect(request: Request): Expect;
  /** Writes the request; `opaque` is the first of its tokens. */
  encode(w: ByteWriter, request: Request, opaque: number): void;
  /** Reads the reply into an answer; `opaque` as given to `encode`. */
  read(reply: Reply, request: Request, opaque: number): Answer;
}
