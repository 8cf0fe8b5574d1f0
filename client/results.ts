/**
 * Turning replies into results: the handlers of each operation's replies,
 * text and meta. Used by the client and its reader.
 *
 * @module
 */
import type { MemcachedError } from "../errors.ts";
import { sameKey, type SentKey } from "../protocol/keys.ts";
import type { MetaReply } from "../protocol/meta.ts";
import { Status } from "../protocol/status.ts";
import type { Item, Reply } from "../protocol/reply.ts";
import type { StoreVerb } from "../protocol/text.ts";

/** A counter value: a `number`, or a `bigint` past 2^53. */
export type Counter = number | bigint;

const NO_BYTES = new Uint8Array(0);

/** The one item of a single-key text `get`, checked to be for key `k`. */
export function onlyItem(reply: Reply, k: SentKey, fail: () => MemcachedError): Item | undefined {
  if (reply.status !== Status.END) throw fail();
  const item = reply.items![0];
  if (reply.items!.length > 1 || (item && !sameKey(item.key, k))) {
    reply.status = Status.PROTOCOL_ERROR;
    reply.line = "the server answered with another key";
    throw fail();
  }
  return item;
}

/** An item from a meta VA reply for key `k`. */
export function itemOf(k: SentKey, meta: MetaReply): Item {
  return {
    key: k,
    flags: Number(meta.flags.f ?? 0),
    value: meta.value ?? NO_BYTES,
    text: meta.text,
    cas: meta.flags.c === undefined ? undefined : BigInt(meta.flags.c),
  };
}

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

/** The result of an `ms`: `false` for NS and EX, NotFound for NF. */
export function metaStored(meta: MetaReply, fail: () => MemcachedError): boolean {
  if (meta.code === "HD") return true;
  if (meta.code === "NS" || meta.code === "EX") return false;
  throw fail();
}

/** The result of an `md`: `false` when the key was missing. */
export function metaDeleted(meta: MetaReply, fail: () => MemcachedError): boolean {
  if (meta.code === "HD") return true;
  if (meta.code === "NF") return false;
  throw fail();
}

/** The new value of a counter from an `ma … v`. */
export function metaCounted(meta: MetaReply, fail: () => MemcachedError): Counter {
  if (meta.code !== "VA" || !meta.value) throw fail();
  const n = BigInt(String.fromCharCode(...meta.value));
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/** The result of a storage command: `false` for NOT_STORED and EXISTS. */
export function stored(reply: Reply, fail: () => MemcachedError): boolean {
  switch (reply.status) {
    case Status.STORED:
      return true;
    case Status.NOTSTORED:
    case Status.DATA_EXISTS:
      return false;
    default:
      throw fail();
  }
}

/** The result of `delete`: `false` when the key was missing. */
export function deleted(reply: Reply, fail: () => MemcachedError): boolean {
  if (reply.status === Status.DELETED) return true;
  if (reply.status === Status.NOTFOUND) return false;
  throw fail();
}

/** The result of `touch`: `false` when the key was missing. */
export function touched(reply: Reply, fail: () => MemcachedError): boolean {
  if (reply.status === Status.SUCCESS) return true;
  if (reply.status === Status.NOTFOUND) return false;
  throw fail();
}

/** The new value of a counter. */
export function counted(reply: Reply, fail: () => MemcachedError): Counter {
  if (reply.number === undefined) throw fail();
  return reply.number <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(reply.number) : reply.number;
}

/** Whether entries are given as an iterable of pairs (else as an object). */
export function isIterable(value: unknown): value is Iterable<readonly [string, unknown]> {
  return typeof (value as Iterable<unknown>)?.[Symbol.iterator] === "function";
}
