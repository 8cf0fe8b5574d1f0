/**
 * {@linkcode InFlight}: the requests written to a socket and not yet
 * answered, oldest first, and the keys of those the caller gave up on.
 *
 * @module
 */
import type { Reply } from "../protocol/reply.ts";
import type { RequestSpec } from "./request.ts";

/** Not written yet. */
export const QUEUED = 0;
/** Written; its reply is due. */
export const SENT = 1;
/** Settled: answered, failed, or given up on. */
export const DONE = 2;

/** One request as the connection holds it. */
export interface Pending {
  spec: RequestSpec;
  state: typeof QUEUED | typeof SENT | typeof DONE;
  resolve(reply: Reply): void;
  reject(err: unknown): void;
  /** When the request times out (ms since the epoch); Infinity for never. */
  deadline: number;
  onAbort?: () => void;
  /** Whether the caller gave up on it after it was written. */
  abandoned?: boolean;
}

/**
 * The in-flight queue. Replies come in the order requests were written, so
 * the oldest is the one the next reply answers. A request given up on
 * keeps its place until its reply is read and dropped; until then later
 * requests for its key must follow it here (see {@linkcode holds}).
 */
export class InFlight {
  #items: Pending[] = [];
  #head = 0;
  readonly #abandonedKeys = new Map<string, number>();

  /** How many requests are in flight, abandoned ones included. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** The oldest request in flight: the one the next reply answers. */
  get oldest(): Pending | undefined {
    return this.#items[this.#head];
  }

  /** Adds a request just written. */
  push(p: Pending): void {
    this.#items.push(p);
  }

  /** Removes the oldest request, once its reply is read. */
  shift(): void {
    const p = this.#items[this.#head];
    if (p.abandoned && p.spec.key !== undefined) {
      const count = this.#abandonedKeys.get(p.spec.key)! - 1;
      if (count > 0) this.#abandonedKeys.set(p.spec.key, count);
      else this.#abandonedKeys.delete(p.spec.key);
    }
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Marks a written request as given up on; its reply is still due. */
  abandon(p: Pending): void {
    if (p.spec.key === undefined) return;
    p.abandoned = true;
    this.#abandonedKeys.set(p.spec.key, (this.#abandonedKeys.get(p.spec.key) ?? 0) + 1);
  }

  /** Whether a request for `key` was given up on and its reply has not come yet. */
  holds(key: string): boolean {
    return this.#abandonedKeys.size > 0 && this.#abandonedKeys.has(key);
  }

  /** Every request in flight, oldest first. */
  list(): Pending[] {
    return this.#items.slice(this.#head);
  }

  /** Empties the queue (its socket is gone); the requests that were in it, oldest first. */
  drain(): Pending[] {
    const all = this.list();
    this.#items = [];
    this.#head = 0;
    this.#abandonedKeys.clear();
    return all;
  }
}
