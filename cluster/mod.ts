/**
 * {@linkcode Cluster}: the servers of a client, which one holds a key, which
 * are in service, and the connections to each.
 *
 * @module
 */
import type { RequestSpec } from "../connection.ts";
import { type Error, errorFor } from "../errors.ts";
import { ConnectionPool, type ConnectionPoolOptions } from "../pool.ts";
import { Status } from "../protocol/status.ts";
import { keyBytes, type SentKey } from "../protocol/keys.ts";
import type { Reply } from "../protocol/text.ts";
import { addressName } from "../transport/mod.ts";
import type { Resolved } from "./behaviors.ts";
import { hashes, type HashFunction } from "./hash.ts";
import { Ring } from "./ring.ts";
import type { Server } from "./servers.ts";

/**
 * Statuses that say the server, not the request, failed: they count towards
 * ejection. A request timeout is not one of them: it may only mean that the
 * caller's deadline was short.
 */
const SERVER_FAILURES = new Set<Status>([
  Status.CONNECTION_FAILURE,
  Status.HOST_LOOKUP_FAILURE,
  Status.FAIL_UNIX_SOCKET,
  Status.ERRNO,
  Status.READ_FAILURE,
  Status.WRITE_FAILURE,
  Status.PROTOCOL_ERROR,
]);

/** Whether an error means its server failed (so another server may serve the request). */
export function isServerFailure(err: unknown): boolean {
  const status = (err as Error)?.status;
  return status === Status.SERVER_TEMPORARILY_DISABLED || SERVER_FAILURES.has(status);
}

interface Health {
  /** Server failures in a row. */
  failures: number;
  /** Until when (ms since the epoch) the server is left alone. */
  downUntil: number;
  /** Whether it is out of the placement until `downUntil`. */
  ejected: boolean;
}

/**
 * The servers of a client. A failed server is left alone for
 * `retry_timeout` seconds (its keys fail fast with ServerDown); with
 * `auto_eject`, after `failure_limit` failures in a row it leaves the
 * placement until `dead_timeout` (or `retry_timeout`) has passed, and its
 * keys go where libmemcached would send them.
 */
export class Cluster {
  /** Each server's name in errors and results: `host:port` or the socket path. */
  readonly names: readonly string[];
  readonly #servers: readonly Server[];
  readonly #pools: ConnectionPool[];
  readonly #health: Health[];
  readonly #behaviors: Resolved;
  readonly #hash: HashFunction;
  #ring: Ring;
  #rebuildAt = Infinity;
  #closed = false;

  /** Makes the cluster; nothing is opened until the first request. */
  constructor(servers: readonly Server[], behaviors: Resolved, options: ConnectionPoolOptions) {
    this.#servers = servers;
    this.#behaviors = behaviors;
    this.#hash = hashes[behaviors.hash];
    this.names = servers.map(addressName);
    this.#pools = servers.map((server, index) =>
      new ConnectionPool(server, {
        ...options,
        onSettled: (spec, reply, err) => this.#settled(index, spec, reply, err),
      })
    );
    this.#health = servers.map(() => ({ failures: 0, downUntil: 0, ejected: false }));
    this.#ring = this.#build();
  }

  /** How many servers there are. */
  get size(): number {
    return this.#servers.length;
  }

  /**
   * The index of the server that holds `key` (already prefixed and encoded),
   * as libmemcached computes it; -1 when every server is ejected.
   */
  indexFor(key: SentKey): number {
    // Infinity while no server is ejected: no clock read per key then.
    if (this.#rebuildAt !== Infinity && Date.now() >= this.#rebuildAt) {
      this.#ring = this.#build();
    }
    if (this.#ring.empty) return -1;
    return this.#servers.length === 1 ? 0 : this.#ring.pick(this.#hash(keyBytes(key)));
  }

  /** The servers that also hold a key whose server is `index` (`num_replicas`). */
  replicasOf(index: number): number[] {
    const replicas: number[] = [];
    for (let i = 1; i <= this.#behaviors.replicas; i++) {
      replicas.push((index + i) % this.#servers.length);
    }
    return replicas;
  }

  /**
   * Sends a request to server `index`. A server that failed recently answers
   * ServerDown at once, without a connection attempt; when every server is
   * down the answer is NoServers.
   */
  request(index: number, spec: RequestSpec): Promise<Reply> {
    if (this.#closed) return this.#pools[index].request(spec);
    const health = this.#health[index];
    const now = Date.now();
    if (health.downUntil > now) {
      const allDown = this.#health.every((h) => h.downUntil > now);
      return Promise.reject(
        errorFor(
          allDown ? Status.NO_SERVERS : Status.SERVER_TEMPORARILY_DISABLED,
          allDown
            ? "every server failed recently"
            : `server failed ${health.failures} time(s) in a row; retried in ${
              health.downUntil - now
            } ms`,
          { operation: spec.operation, key: spec.key, server: this.names[index] },
        ),
      );
    }
    return this.#pools[index].request(spec);
  }

  /**
   * Keeps a server's run of failures from each request's outcome, told by
   * its connection as the request settles (no promise per request for it).
   */
  #settled(index: number, spec: RequestSpec, reply: Reply | undefined, err: unknown): void {
    if (reply) this.#health[index].failures = 0;
    else if (isServerFailure(err) && !spec.signal?.aborted && !this.#closed) this.#failed(index);
  }

  /** Closes every connection. */
  close(): void {
    this.#closed = true;
    for (const pool of this.#pools) pool.close();
  }

  #failed(index: number): void {
    const health = this.#health[index];
    const { autoEject, failureLimit, retryTimeout, deadTimeout } = this.#behaviors;
    health.failures++;
    if (autoEject && health.failures >= failureLimit && this.#servers.length > 1) {
      health.ejected = true;
      health.downUntil = Date.now() + 1000 * (deadTimeout || retryTimeout);
      this.#ring = this.#build();
    } else if (retryTimeout > 0) {
      health.downUntil = Date.now() + 1000 * retryTimeout;
    }
  }

  /** The placement of the servers in service; schedules the next rebuild when an ejected one may return. */
  #build(): Ring {
    const now = Date.now();
    const live: number[] = [];
    this.#rebuildAt = Infinity;
    this.#health.forEach((health, index) => {
      if (health.ejected && health.downUntil <= now) health.ejected = false;
      if (health.ejected) this.#rebuildAt = Math.min(this.#rebuildAt, health.downUntil);
      else live.push(index);
    });
    const servers = this.#servers.map((server) => ({
      host: server.kind === "unix" ? server.path : server.host,
      port: server.kind === "unix" ? 0 : server.port,
      weight: server.weight,
    }));
    return new Ring(servers, live, this.#behaviors.distribution, this.#hash);
  }
}
