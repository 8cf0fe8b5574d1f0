/**
 * Pools: {@linkcode ConnectionPool}, the few connections a client keeps to
 * each server, and {@linkcode ClientPool}, pylibmc's pool of clients that are
 * lent to one task at a time.
 *
 * @module
 */
import { Connection, type ConnectionOptions, type RequestSpec } from "./connection.ts";
import { ConnectionError, errorFor, InvalidArguments, PoolExhausted, Timeout } from "./errors.ts";
import { Status } from "./protocol/status.ts";
import type { Reply } from "./protocol/text.ts";
import { type Address, addressName, unrefTimer } from "./transport/mod.ts";

/** How a {@linkcode ConnectionPool} behaves. */
export interface ConnectionPoolOptions extends Omit<ConnectionOptions, "onIdle"> {
  /** The most connections to open to the server. */
  maxConnections: number;
  /** Milliseconds a connection may sit unused before it is closed. */
  idleTimeout: number;
}

/**
 * The connections to one server. Each request goes to the least-loaded
 * connection; a new one is opened, up to `maxConnections`, only when every
 * open connection is busy, so a large value on one connection does not hold
 * up small requests behind it. Connections unused for `idleTimeout` are
 * closed.
 */
export class ConnectionPool {
  /** The server's name: `host:port` or the socket path. */
  readonly server: string;
  readonly #address: Address;
  readonly #options: ConnectionPoolOptions;
  /** Connections of requests sent alone, until they are answered. */
  readonly #lonely = new Set<Connection>();
  readonly #connections: Connection[] = [];
  /** The one timer that closes connections idle for `idleTimeout`. */
  #sweeper?: ReturnType<typeof setTimeout>;
  #closed = false;

  /** Makes a pool; no connection is opened until the first request. */
  constructor(address: Address, options: ConnectionPoolOptions) {
    this.#address = address;
    this.#options = options;
    this.server = addressName(address);
  }

  /** How many connections are open or opening. */
  get size(): number {
    return this.#connections.length;
  }

  /** Sends a request on the least-loaded connection. */
  request(spec: RequestSpec): Promise<Reply> {
    if (this.#closed) {
      return Promise.reject(
        errorFor(Status.CONNECTION_FAILURE, "client is closed", {
          operation: spec.operation,
          key: spec.key,
          server: this.server,
        }),
      );
    }
    if (spec.alone) return this.#alone(spec);
    return this.#pick(spec.key).request(spec);
  }

  /** Sends a request on a connection of its own, closed once it is answered. */
  async #alone(spec: RequestSpec): Promise<Reply> {
    const connection = new Connection(this.#address, this.#options);
    this.#lonely.add(connection);
    try {
      return await connection.request(spec);
    } finally {
      this.#lonely.delete(connection);
      connection.close();
    }
  }

  /** Closes every connection; waiting requests reject with ConnectionError. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#sweeper);
    this.#sweeper = undefined;
    for (const connection of this.#connections.splice(0)) connection.close();
    for (const connection of this.#lonely) connection.close();
  }

  #pick(key: string | undefined): Connection {
    if (this.#options.perRequest) return this.#use(this.#joinable());
    let best: Connection | undefined;
    const connections = this.#connections;
    for (let i = 0; i < connections.length; i++) {
      const connection = connections[i];
      if (key !== undefined && connection.holds(key)) return this.#use(connection);
      if (!best || connection.load < best.load) best = connection;
    }
    if (!best || (best.load > 0 && this.#connections.length < this.#options.maxConnections)) {
      best = this.#open();
    }
    return this.#use(best);
  }

  /**
   * Where sockets belong to the request that opened them: an idle
   * connection (a write from another request's turn fails unsent and moves
   * to a socket of its own), or a new one, past `maxConnections` if need be.
   */
  #joinable(): Connection {
    for (const connection of this.#connections) if (connection.joinable) return connection;
    return this.#open();
  }

  #use(connection: Connection): Connection {
    connection.idleSince = 0;
    return connection;
  }

  #open(): Connection {
    const connection = new Connection(this.#address, {
      ...this.#options,
      onIdle: (idle) => this.#onIdle(idle),
    });
    if (!this.#closed) this.#connections.push(connection);
    return connection;
  }

  /**
   * Notes when a connection went idle. One timer per pool closes the ones
   * idle for `idleTimeout`, so that a call after a call does not set and
   * clear a timer each time.
   */
  #onIdle(connection: Connection): void {
    if (this.#closed || connection.idleSince !== 0) return;
    connection.idleSince = Date.now();
    if (this.#sweeper === undefined) this.#sweep(this.#options.idleTimeout);
  }

  #sweep(after: number): void {
    this.#sweeper = setTimeout(() => {
      this.#sweeper = undefined;
      const now = Date.now();
      let next = Infinity;
      for (const connection of [...this.#connections]) {
        if (connection.idleSince === 0) continue;
        const due = connection.idleSince + this.#options.idleTimeout;
        if (due > now && connection.load === 0) {
          next = Math.min(next, due);
          continue;
        }
        if (connection.load > 0) {
          connection.idleSince = 0;
          continue;
        }
        this.#connections.splice(this.#connections.indexOf(connection), 1);
        connection.close();
      }
      if (next < Infinity) this.#sweep(next - now);
    }, after);
    // Idle connections are closed for the server's sake, not the process's.
    unrefTimer(this.#sweeper);
  }
}

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
