/**
 * {@linkcode Cluster}: the servers of a client, which one holds a key, which
 * are in service, and the connections to each.
 *
 * @module
 */
import type { RequestSpec } from "../connection/mod.ts";
import { consequence, errorFor, type MemcachedError } from "../errors.ts";
import { ConnectionPool, type ConnectionPoolOptions } from "./pools.ts";
import { encodeMetaAsBinary } from "../protocol/binary_wire.ts";
import { encodeMeta } from "../protocol/meta.ts";
import { Status } from "../protocol/status.ts";
import { keyBytes, type SentKey } from "../protocol/keys.ts";
import type { Reply } from "../protocol/reply.ts";
import { addressName } from "../transport/mod.ts";
import type { Resolved } from "./behaviors.ts";
import { hashes, type HashFunction } from "./hash.ts";
import { Health, type ServerHealth } from "./health.ts";
import { Ring } from "./ring.ts";
import type { Server } from "./servers.ts";

/** Whether an error means its server could not serve the request (so another server may). */
export function isServerFailure(err: unknown): boolean {
  const status = (err as MemcachedError)?.status;
  if (status === undefined) return false;
  return status === Status.SERVER_TEMPORARILY_DISABLED || consequence(status).serverFailure;
}

/**
 * The servers of a client. A failed server is left alone for
 * `retry_timeout` seconds (its keys fail fast with ServerDown); with
 * `auto_eject`, after `failure_limit` failures in a row it leaves the
 * placement and its keys go where libmemcached would send them. Either way
 * it returns once a background probe finds it answering (see
 * {@linkcode Health}).
 */
export class Cluster {
  /** Each server's name in errors and results: `host:port` or the socket path. */
  readonly names: readonly string[];
  readonly #servers: readonly Server[];
  readonly #pools: ConnectionPool[];
  readonly #health: Health;
  readonly #behaviors: Resolved;
  readonly #hash: HashFunction;
  readonly #probeSpec: RequestSpec;
  #ring: Ring;
  #closed = false;

  /** Servers whose pools were handed to the cluster that replaced this one. */
  readonly #handedOver = new Set<number>();

  /**
   * Makes the cluster; nothing is opened until the first request. With
   * `previous` (the cluster it replaces), a server both have keeps its
   * connections.
   */
  constructor(
    servers: readonly Server[],
    behaviors: Resolved,
    options: ConnectionPoolOptions,
    previous?: Cluster,
  ) {
    this.#servers = servers;
    this.#behaviors = behaviors;
    this.#hash = hashes[behaviors.hash];
    this.names = servers.map(addressName);
    this.#health = new Health(
      this.names,
      behaviors,
      (index) => this.#probe(index),
      () => this.#ring = this.#build(),
    );
    this.#pools = servers.map((server, index) => {
      const told = {
        onFailure: (err: MemcachedError) => this.#health.failed(index, err),
        onAnswered: () => this.#health.answered(index),
      };
      const kept = previous && previous.#handOver(server);
      kept?.rebind(told);
      return kept ?? new ConnectionPool(server, { ...options, ...told });
    });
    const emit = options.binary ? encodeMetaAsBinary : encodeMeta;
    this.#probeSpec = {
      encode: (w) => emit(w, "mn", undefined, []),
      expect: "meta",
      operation: "probe",
      // A backstop only: the connection reports a silent server first.
      timeout: options.stallTimeout + options.connectTimeout,
      refusable: true,
    };
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
    if (this.#ring.empty) return -1;
    return this.#servers.length === 1 ? 0 : this.#ring.pick(this.#hash(keyBytes(key)));
  }

  /**
   * The positions of `keys` (encoded as `encoded`, in the same order) grouped
   * by server index; keys with no server get NoServers in `errors`.
   */
  group(
    keys: readonly string[],
    encoded: readonly SentKey[],
    operation: string,
    errors: Map<string, MemcachedError>,
  ): Map<number, number[]> {
    if (this.size === 1 && keys.length > 0) {
      // One server holds every key, or none does: ask once, not per key.
      const index = this.indexFor(encoded[0]);
      if (index >= 0) {
        const every: number[] = new Array(keys.length);
        for (let at = 0; at < keys.length; at++) every[at] = at;
        return new Map([[index, every]]);
      }
    }
    const groups = new Map<number, number[]>();
    for (let at = 0; at < keys.length; at++) {
      const index = this.indexFor(encoded[at]);
      if (index < 0) {
        errors.set(keys[at], noServer(operation, keys[at]));
        continue;
      }
      const group = groups.get(index);
      if (group) group.push(at);
      else groups.set(index, [at]);
    }
    return groups;
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
   * Sends a request to server `index`. A server that is not up answers
   * ServerDown at once, without a connection attempt; when no server is up
   * the answer is NoServers.
   */
  request(index: number, spec: RequestSpec): Promise<Reply> {
    if (this.#closed || this.#health.state(index) === "up") return this.#pools[index].request(spec);
    this.#health.visit(index);
    const entry = this.#health.entry(index);
    const allDown = this.#health.noneUp;
    const wait = Math.max(0, entry.downUntil - Date.now());
    return Promise.reject(
      errorFor(
        allDown ? Status.NO_SERVERS : Status.SERVER_TEMPORARILY_DISABLED,
        allDown
          ? "every server failed recently"
          : `server failed ${entry.failures} time(s) in a row; probed again in ${wait} ms`,
        { operation: spec.operation, key: spec.key, server: this.names[index] },
      ),
    );
  }

  /** Each server's state, failures in a row, until when it is left alone, and last error. */
  health(): ServerHealth[] {
    return this.#health.snapshot();
  }

  /** Whether any request waits on one of its own connections. */
  get busy(): boolean {
    return this.#pools.some((pool, index) => !this.#handedOver.has(index) && pool.busy);
  }

  /**
   * The pool of `server`, if this cluster has one for the same address,
   * handed to the cluster that replaces this one: no longer this one's to
   * close.
   */
  #handOver(server: Server): ConnectionPool | undefined {
    const index = this.names.indexOf(addressName(server));
    const mine = this.#servers[index];
    if (
      index < 0 || this.#handedOver.has(index) ||
      (mine.kind === "tcp" && mine.tls) !== (server.kind === "tcp" && server.tls)
    ) return undefined;
    this.#handedOver.add(index);
    return this.#pools[index];
  }

  /** Closes every connection of its own and stops probing. */
  close(): void {
    this.#closed = true;
    this.#health.close();
    this.#pools.forEach((pool, index) => {
      if (!this.#handedOver.has(index)) pool.close();
    });
  }

  /**
   * Whether server `index` answers a no-op: the error when it does not.
   * Any reply will do (an old server says ERROR to `mn`), and so will a
   * proxy closing the connection on it or a refused login: only a failure
   * of the server counts.
   */
  async #probe(index: number): Promise<MemcachedError | undefined> {
    try {
      await this.#pools[index].request(this.#probeSpec);
      return undefined;
    } catch (err) {
      const status = (err as MemcachedError).status;
      return consequence(status).serverFailure ? err as MemcachedError : undefined;
    }
  }

  /** The placement of the servers in service. */
  #build(): Ring {
    const live: number[] = [];
    for (let index = 0; index < this.#servers.length; index++) {
      if (this.#health.placed(index)) live.push(index);
    }
    const servers = this.#servers.map((server) => ({
      host: server.kind === "unix" ? server.path : server.host,
      port: server.kind === "unix" ? 0 : server.port,
      weight: server.weight,
    }));
    return new Ring(servers, live, this.#behaviors.distribution, this.#hash);
  }
}

/** The error for a key when every server is out of the placement. */
export function noServer(operation: string, key: string | undefined): MemcachedError {
  return errorFor(Status.NO_SERVERS, "every server is ejected", { operation, key });
}
