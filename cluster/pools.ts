/**
 * {@linkcode ConnectionPool}: the few connections a client keeps to each
 * server.
 *
 * @module
 */
import { Connection, type ConnectionOptions, type RequestSpec } from "../connection/mod.ts";
import { errorFor } from "../errors.ts";
import { Status } from "../protocol/status.ts";
import type { Reply } from "../protocol/reply.ts";
import { type Address, addressName, unrefTimer } from "../transport/mod.ts";

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

  /** Who is told of failures and answers: the cluster the pool serves now. */
  #told: Pick<ConnectionOptions, "onFailure" | "onAnswered">;

  /** Makes a pool; no connection is opened until the first request. */
  constructor(address: Address, options: ConnectionPoolOptions) {
    this.#address = address;
    this.#told = options;
    this.#options = {
      ...options,
      onFailure: (err) => this.#told.onFailure?.(err),
      onAnswered: () => this.#told.onAnswered?.(),
    };
    this.server = addressName(address);
  }

  /**
   * Tells failures and answers to `told` from now on, its open connections'
   * included: the pool has moved to the cluster that replaced its own.
   */
  rebind(told: Pick<ConnectionOptions, "onFailure" | "onAnswered">): void {
    this.#told = told;
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

  /** Whether any request waits on a connection of this pool. */
  get busy(): boolean {
    for (const connection of this.#connections) if (connection.load > 0) return true;
    for (const connection of this.#lonely) if (connection.load > 0) return true;
    return false;
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
    const connection: Connection = new Connection(this.#address, {
      ...this.#options,
      onIdle: () => this.#onIdle(connection),
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
