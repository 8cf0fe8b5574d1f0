/**
 * Turning answers into results: what each operation makes of its answer,
 * whatever the protocol. Used by the client and its reader.
 *
 * @module
 */
import type { MemcachedError } from "../errors.ts";
import { sameKey, type SentKey } from "../protocol/keys.ts";
import type { Item } from "../protocol/reply.ts";
import { Status } from "../protocol/status.ts";
import type { Answer } from "../protocol/wire.ts";

/** A counter value: a `number`, or a `bigint` past 2^53. */
export type Counter = number | bigint;

/** The one item of a single-key retrieval, checked to be for key `k`. */
export function onlyItem(answer: Answer, k: SentKey, fail: () => MemcachedError): Item | undefined {
  if (answer.status !== Status.END) throw fail();
  const item = answer.items![0];
  if (answer.items!.length > 1 || (item && !sameKey(item.key, k))) {
    answer.status = Status.PROTOCOL_ERROR;
    answer.line = "the server answered with another key";
    throw fail();
  }
  return item;
}

/** The result of a storage command: `false` for NOT_STORED and EXISTS. */
export function stored(answer: Answer, fail: () => MemcachedError): boolean {
  switch (answer.status) {
    case Status.STORED:
      return true;
    case Status.NOTSTORED:
    case Status.DATA_EXISTS:
      return false;
    default:
      throw fail();
  }
}

/**
 * The result of one store among many: a value the server refused as too
 * big is a key not stored (and deleted, as memcached does for `set`), as
 * one this client refuses is, not a failure of the call.
 */
export function storedOrRefused(answer: Answer, fail: () => MemcachedError): boolean {
  return answer.status === Status.E2BIG ? false : stored(answer, fail);
}

/** The result of `delete`: `false` when the key was missing. */
export function deleted(answer: Answer, fail: () => MemcachedError): boolean {
  if (answer.status === Status.DELETED) return true;
  if (answer.status === Status.NOTFOUND) return false;
  throw fail();
}

/** The result of `touch`: `false` when the key was missing. */
export function touched(answer: Answer, fail: () => MemcachedError): boolean {
  if (answer.status === Status.SUCCESS) return true;
  if (answer.status === Status.NOTFOUND) return false;
  throw fail();
}

/** The new value of a counter. */
export function counted(answer: Answer, fail: () => MemcachedError): bigint {
  if (answer.number === undefined) throw fail();
  return answer.number;
}

/** A counter's value as a `number` up to 2^53, a `bigint` past it. */
export function counter(value: bigint): Counter {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** Whether entries are given as an iterable of pairs (else as an object). */
export function isIterable(value: unknown): value is Iterable<readonly [string, unknown]> {
  return typeof (value as Iterable<unknown>)?.[Symbol.iterator] === "function";
}
