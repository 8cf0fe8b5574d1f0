/**
 * # @seed/memcached
 *
 * A memcached client for Deno, Bun, Node and Cloudflare Workers: pipelined
 * requests, every operation over the text, meta or binary protocol, servers
 * placed as libmemcached places them, pylibmc's error classes, values that
 * Python services using pylibmc on the same servers can read and write, TLS,
 * SASL and ASCII authentication. `jsr:@seed/memcached/cli` is the command
 * line.
 *
 * @example
 * ```ts ignore
 * import { Client, NotFound } from "jsr:@seed/memcached";
 *
 * await using client = new Client("127.0.0.1:11211", { timeout: 1000 });
 * await client.set("user:1", { name: "Ada" }, { ttl: 300 });
 * console.log(await client.get("user:1")); // { name: "Ada" }
 * await client.set("hits", 0);
 * console.log(await client.incr("hits", 5)); // 5
 * try {
 *   await client.incr("missing");
 * } catch (err) {
 *   if (!(err instanceof NotFound)) throw err;
 * }
 * ```
 *
 * Over TLS, with credentials:
 *
 * ```ts ignore
 * const client = new Client("memcacheds://cache.internal:11211", {
 *   tls: { ca: await Deno.readTextFile("ca.pem") },
 *   username: "app",
 *   password: Deno.env.get("MEMCACHED_PASSWORD"),
 * });
 * ```
 *
 * @module
 */
export {
  type CasValue,
  Client,
  type CommandEvent,
  type Counter,
  type Entries,
  type ItemMeta,
} from "./client.ts";
export type {
  CallOptions,
  ClientOptions,
  CounterOptions,
  FlushOptions,
  GetOrSetOptions,
  InvalidateOptions,
  RetryPolicy,
  SetOptions,
  StoreOptions,
  WriteOptions,
} from "./client/options.ts";
export type { ServerHealth, ServerState } from "./cluster/health.ts";
export type { DumpEntry } from "./protocol/reply.ts";
export {
  Codec,
  type CompressionOptions,
  type Encoded,
  Flags,
  pylibmcSerializer,
  type Serializer,
} from "./codec/mod.ts";
export * from "./errors.ts";
export { ClientPool, type Lease, type Poolable, type ReserveOptions } from "./pool.ts";
export { isSuccess } from "./protocol/status.ts";
export { parseServer, type Server } from "./cluster/servers.ts";
export type {
  Address,
  Connector,
  Socket,
  SocketEvents,
  SocketOptions,
  TlsOptions,
} from "./transport/types.ts";
export type { Behaviors } from "./cluster/behaviors.ts";
export type { HashName } from "./cluster/hash.ts";
export type { Distribution } from "./cluster/ring.ts";
export { SocketFailure } from "./transport/types.ts";
export {
  connectBun,
  connectDeno,
  connectNode,
  connectWorkers,
  type Runtime,
  runtime,
  type WorkersConnect,
  workersConnector,
  type WorkersSocket,
} from "./transport/mod.ts";
