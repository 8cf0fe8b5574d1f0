/**
 * The usage examples of pylibmc's error-handling guide, written with this
 * client: basic and comprehensive handling, batch operations, the pool,
 * server-failure recovery, and error tracking.
 *
 * `deno run --allow-net examples/error_handling.ts host:port [host:port …]`
 * runs them all against the servers given (default 127.0.0.1:11211).
 */
import {
  BadKeyProvided,
  CacheMiss,
  Client,
  ClientPool,
  ConnectionError,
  Error as CacheError,
  isRetriable,
  NoServers,
  PoolExhausted,
  ServerDead,
  ServerDown,
  ServerError,
  SomeErrors,
  TooBig,
} from "../mod.ts";

/** Where the examples log; replace its methods to send the lines elsewhere. */
export const logger = {
  debug: (message: string) => console.debug(message),
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

/** Basic error handling: a miss is `undefined`, each failure a class. */
export async function basicGet(client: Client, key: string): Promise<unknown> {
  try {
    const value = await client.get(key);
    if (value === undefined) logger.debug("Key not found");
    return value;
  } catch (err) {
    if (err instanceof CacheMiss) logger.debug("Cache miss - key doesn't exist");
    else if (err instanceof ConnectionError) logger.error("Cannot connect to memcached server");
    else if (err instanceof CacheError) logger.error(`Memcached error: ${err.message}`);
    else throw err;
  }
}

/** Comprehensive error handling: a get that never throws, logging each kind of failure. */
export async function safeCacheGet<T>(client: Client, key: string, fallback?: T) {
  try {
    return await client.get<T>(key) ?? fallback;
  } catch (err) {
    if (err instanceof BadKeyProvided) logger.warn(`Invalid key format: ${key} - ${err.message}`);
    else if (err instanceof ConnectionError || err instanceof ServerError) {
      logger.error(err.message);
    } else if (err instanceof CacheError) logger.error(`Unexpected cache error: ${err.message}`);
    else throw err;
    return fallback;
  }
}

/** A set that never throws: `false` when the value was not stored. */
export async function safeCacheSet(client: Client, key: string, value: unknown, ttl = 0) {
  try {
    return await client.set(key, value, { ttl });
  } catch (err) {
    if (err instanceof TooBig || err instanceof BadKeyProvided) logger.warn(err.message);
    else if (err instanceof CacheError) logger.error(`Set failed: ${err.message}`);
    else throw err;
    return false;
  }
}

/** Batch operations: SomeErrors keeps every result that succeeded. */
export async function safeMultiGet(client: Client, keys: string[]): Promise<Map<string, unknown>> {
  try {
    return await client.getMulti(keys);
  } catch (err) {
    if (err instanceof SomeErrors) {
      logger.warn(`Some keys failed in multi-get: ${[...err.errors.keys()].join(", ")}`);
      return err.results;
    }
    if (err instanceof NoServers) logger.error(`No servers available: ${err.message}`);
    else if (err instanceof CacheError) logger.error(`Multi-get failed: ${err.message}`);
    else throw err;
    return new Map();
  }
}

/** A multi-key set that never throws: the keys that were not stored. */
export async function safeMultiSet(client: Client, entries: Record<string, unknown>) {
  try {
    const failed = await client.setMulti(entries);
    if (failed.length) logger.warn(`Failed to set keys: ${failed.join(", ")}`);
    return failed;
  } catch (err) {
    if (err instanceof SomeErrors) {
      logger.warn(`Partial failure in multi-set: ${err.message}`);
      return [...err.errors.keys()];
    }
    if (!(err instanceof CacheError)) throw err;
    logger.error(`Multi-set failed completely: ${err.message}`);
    return Object.keys(entries);
  }
}

/** The pool: reserve without waiting; the lease gives the client back whatever happens. */
export async function safePooledOperation(pool: ClientPool<Client>, key: string, value?: unknown) {
  try {
    await using lease = await pool.reserve({ block: false });
    return value !== undefined ? await lease.client.set(key, value) : await lease.client.get(key);
  } catch (err) {
    if (err instanceof PoolExhausted) logger.warn("Connection pool exhausted");
    else if (err instanceof CacheError) logger.error(`Cache error in pool: ${err.message}`);
    else throw err;
    return undefined;
  }
}

/**
 * Server-failure recovery: pylibmc's behaviors, and retries with backoff
 * built in (only for operations that are safe to repeat).
 */
export function createResilientClient(servers: string[]): Client {
  return new Client(servers, {
    protocol: "binary",
    connectTimeout: 2000,
    behaviors: { auto_eject: true, failure_limit: 2, retry_timeout: 30, ketama: true },
    retry: { attempts: 3, backoff: 100 },
  });
}

/** Retries by hand, for any operation: again while `isRetriable` says it may succeed. */
export async function resilientOperation<T>(run: () => Promise<T>, maxRetries = 3): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (!isRetriable(err) || attempt === maxRetries - 1) throw err;
      const kind =
        err instanceof ServerDead || err instanceof ServerDown || err instanceof NoServers
          ? "Server failure"
          : "Connection error";
      logger.warn(`${kind} (attempt ${attempt + 1}): ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 2 ** attempt * 100));
    }
  }
}

/** Error tracking: counts failures by class, and says when to fall back. */
export class CacheErrorTracker {
  /** Failures per class name. */
  readonly counts = new Map<string, number>();
  /** Every failure recorded. */
  readonly details: { operation: string; message: string; timestamp: number }[] = [];

  /** Counts `error` under its class name. */
  record(operation: string, error: Error): void {
    this.counts.set(error.name, (this.counts.get(error.name) ?? 0) + 1);
    this.details.push({ operation, message: error.message, timestamp: Date.now() });
  }

  /** Whether connection-type failures reached `threshold`. */
  shouldFallback(threshold = 10): boolean {
    const connectionErrors = ["ConnectionError", "Timeout", "ServerDead", "ServerDown", "NoServers"]
      .reduce((sum, name) => sum + (this.counts.get(name) ?? 0), 0);
    return connectionErrors >= threshold;
  }
}

/** A client whose every failed request `tracker` records, through `onCommand`. */
export function monitoredClient(servers: string[], tracker: CacheErrorTracker): Client {
  return new Client(servers, {
    connectTimeout: 500,
    behaviors: { ketama: true, retry_timeout: 1 },
    onCommand: (event) => event.error && tracker.record(event.operation, event.error),
  });
}

/** Runs every example against `servers`; what each gave back. */
export async function runAll(servers: string[]): Promise<Record<string, unknown>> {
  await using client = createResilientClient(servers);
  const tracker = new CacheErrorTracker();
  await using monitored = monitoredClient(servers, tracker);
  const pool = new ClientPool<Client>();
  pool.fill(monitored, 2);
  const keys = Array.from({ length: 20 }, (_, i) => `user:${i}`);
  const entries = Object.fromEntries(keys.map((key) => [key, { id: key }]));
  const report: Record<string, unknown> = {
    safeMultiSet: await safeMultiSet(client, entries),
    safeMultiGet: (await safeMultiGet(client, keys)).size,
    safeCacheSet: await safeCacheSet(client, "user:profile", { name: "Ada" }, 300),
    safeCacheGet: await safeCacheGet(client, "user:profile", null),
    badKey: await safeCacheGet(client, "has space", "fallback"),
    basicGet: await basicGet(client, "no-such-key"),
    pooled: await safePooledOperation(pool, "pooled", "value"),
    resilient: await resilientOperation(() => client.get("user:profile")).catch((e) => e.name),
  };
  for (const key of keys) await monitored.get(key).catch(() => {});
  report.tracked = Object.fromEntries(tracker.counts);
  report.shouldFallback = tracker.shouldFallback();
  pool.close();
  return report;
}

if ((import.meta as { main?: boolean }).main) {
  const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? [];
  console.log(await runAll(args.length ? args : ["127.0.0.1:11211"]));
}
