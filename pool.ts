/**
 * {@linkcode ClientPool}: pylibmc's pool of clients, each lent to one task
 * at a time.
 *
 * @module
 */
import { ConnectionError, InvalidArguments, PoolExhausted, Timeout } from "./errors.ts";

/** What a {@linkcode ClientPool} holds: anything that can be cloned and closed, such as a Client. */
export interface Poolable<T> {
  /** A new, independent copy. */
  clone(): T;
  /** Closes it for good. */
  close(): void;
}

/** Options of {@linkcode ClientPool.reserve}. */
export interface ReserveOptions {
  /**
   * Wait for a client when none is free (the default). With `false`, an
   * empty pool throws PoolExhausted at once, as pylibmc's `reserve()` does.
   */
  block?: boolean;
  /** Milliseconds to wait for a client; default 5000, `Infinity` waits for ever. */
  timeout?: number;
  /** Stops waiting when aborted: the reservation rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/**
 * A client lent by {@linkcode ClientPool.reserve}. Disposing it, or calling
 * {@linkcode Lease.release}, gives the client back; `await using` does that
 * when the block ends, also when it throws.
 */
export interface Lease<T> {
  /** The client, for this holder alone until the lease is released. */
  readonly client: T;
  /** Gives the client back to the pool; later calls do nothing. */
  release(): void;
  /** Gives the client back at the end of a `using`/`await using` block. */
  [Symbol.dispose](): void;
  /** Gives the client back at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface Waiter<T> {
  resolve(lease: Lease<T>): void;
  reject(err: unknown): void;
  cleanup(): void;
}

/**
 * A pool of clients, as pylibmc's `ClientPool`: fill it with clones of a
 * configured client, then reserve one per task. Reservations wait in FIFO
 * order and never hand one client to two holders.
 *
 * pylibmc's `ThreadMappedPool` has no counterpart: JavaScript code in one
 * isolate never runs two tasks at once. Give each Worker a client of its own
 * instead.
 *
 * @example
 * ```ts ignore
 * import { Client, ClientPool } from "jsr:@seed/memcached";
 * const pool = new ClientPool<Client>();
 * pool.fill(new Client("127.0.0.1:11211"), 4);
 * {
 *   await using lease = await pool.reserve({ timeout: 1000 });
 *   await lease.client.set("k", "v");
 * } // the client is back in the pool here
 * pool.close();
 * ```
 */
export class ClientPool<T extends Poolable<T>> {
  readonly #free: T[] = [];
  readonly #all = new Set<T>();
  readonly #waiters: Waiter<T>[] = [];
  #closed = false;

  /** Makes a pool, filled with `n` clones of `client` when both are given. */
  constructor(client?: T, n = 0) {
    if (client !== undefined) this.fill(client, n);
  }

  /** How many clients the pool owns. */
  get size(): number {
    return this.#all.size;
  }

  /** How many clients are free right now. */
  get available(): number {
    return this.#free.length;
  }

  /** Adds `n` clones of `client` (the pool owns the clones, not `client` itself). */
  fill(client: T, n: number): void {
    if (this.#closed) throw new ConnectionError("pool is closed");
    if (!Number.isInteger(n) || n < 0) {
      throw new InvalidArguments(`fill: n must be a whole number of clients, not ${n}`);
    }
    for (let i = 0; i < n; i++) {
      const clone = client.clone();
      this.#all.add(clone);
      this.#give(clone);
    }
  }

  /** Lends a client; see {@linkcode ReserveOptions}. */
  reserve(options: ReserveOptions = {}): Promise<Lease<T>> {
    const { block = true, timeout = 5000, signal } = options;
    if (this.#closed) return Promise.reject(new ConnectionError("pool is closed"));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!(timeout > 0)) {
      return Promise.reject(
        new InvalidArguments(`reserve: timeout must be positive, not ${timeout}`),
      );
    }
    const free = this.#free.shift();
    if (free) return Promise.resolve(this.#lease(free));
    if (!block) {
      return Promise.reject(new PoolExhausted(`all ${this.#all.size} clients are reserved`));
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => leave(signal!.reason);
      const timer = Number.isFinite(timeout)
        ? setTimeout(
          () => leave(new Timeout(`no client was free within ${timeout} ms`)),
          timeout,
        )
        : undefined;
      const waiter: Waiter<T> = {
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
        },
      };
      const leave = (err: unknown) => {
        const at = this.#waiters.indexOf(waiter);
        if (at < 0) return;
        this.#waiters.splice(at, 1);
        waiter.cleanup();
        reject(err);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Closes every client; waiting reservations reject with ConnectionError. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      waiter.cleanup();
      waiter.reject(new ConnectionError("pool is closed"));
    }
    for (const client of this.#all) client.close();
    this.#free.length = 0;
  }

  /** Closes the pool at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #lease(client: T): Lease<T> {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#give(client);
    };
    return {
      client,
      release,
      [Symbol.dispose]: release,
      [Symbol.asyncDispose]: () => Promise.resolve(release()),
    };
  }

  #give(client: T): void {
    if (this.#closed) return;
    const waiter = this.#waiters.shift();
    if (!waiter) {
      this.#free.push(client);
      return;
    }
    waiter.cleanup();
    waiter.resolve(this.#lease(client));
  }
}
