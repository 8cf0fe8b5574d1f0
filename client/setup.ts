/**
 * How a client is put together from its options: every option checked,
 * then the cluster, the router, the codec, the key encoder and the reader
 * made from them.
 *
 * @module
 */
import { Discovery } from "../cluster/discovery.ts";
import { Codec, pylibmcSerializer } from "../codec/mod.ts";
import { resolveBehaviors } from "../cluster/behaviors.ts";
import { millis, tell } from "../cluster/call.ts";
import { Cluster } from "../cluster/mod.ts";
import { Router } from "../cluster/router.ts";
import { parseServer } from "../cluster/servers.ts";
import { InvalidArguments, NoServers, NotSupportedError } from "../errors.ts";
import { asciiTextFor, defaultConnector, runtime } from "../transport/mod.ts";
import { KeyEncoder } from "./keys.ts";
import { checkNames, type ClientOptions, integer, MAX_TTL, retryPolicy } from "./options.ts";
import { Reader } from "./reads.ts";
import { authentication, checkCredentials, checkTls } from "./security.ts";

const CLIENT_OPTIONS = [
  "discovery",
  "connectTimeout",
  "timeout",
  "keyPrefix",
  "maxValueSize",
  "compression",
  "serializer",
  "maxConnections",
  "idleTimeout",
  "behaviors",
  "batchGets",
  "onCommand",
  "protocol",
  "binaryKeys",
  "connector",
  "username",
  "password",
  "tls",
  "retry",
  "ttl",
] as const;

/** The parts of a client. */
export interface Parts {
  /** The server entries, as given. */
  servers: readonly string[];
  cluster: Cluster;
  router: Router;
  reader: Reader;
  codec: Codec;
  keys: KeyEncoder;
  /** The largest value sent, after serializing and compressing. */
  maxValueSize: number;
  /** Whether the gets of one tick go out as one request per server. */
  batchGets: boolean;
  /** Whether writes go to replicas too. */
  replicated: boolean;
  /** Seconds to live of items stored without a ttl of their own (0: for ever). */
  ttl: number;
}

/**
 * The parts of a client for `servers` with `options`, every option checked
 * first: unknown names are InvalidArguments, a malformed server entry
 * InvalidHostProtocolError, an empty list NoServers. Servers that
 * `previous` (the cluster being replaced) has too keep their connections.
 */
export function assemble(
  servers: string | readonly string[],
  options: ClientOptions,
  previous?: Cluster,
): Parts {
  checkNames(options, CLIENT_OPTIONS, "Client");
  const list = typeof servers === "string" ? [servers] : [...servers];
  if (list.length === 0) throw new NoServers("empty server list");
  const parsed = list.map(parseServer);
  const behaviors = resolveBehaviors(options.behaviors, parsed.length);
  const prefix = options.keyPrefix ?? "";
  if (typeof prefix !== "string") throw new TypeError("keyPrefix must be a string");
  const timeout = millis(either(options.timeout, behaviors.timeout, "timeout"), "timeout", 5000);
  const maxValueSize = integer(options.maxValueSize, "maxValueSize", 1, 2 ** 31, 1024 * 1024);
  const compression = options.compression;
  if (compression !== undefined) {
    checkNames(compression, ["threshold", "level"], "compression");
    integer(compression.threshold, "compression.threshold", 0, 2 ** 31, 0);
    integer(compression.level, "compression.level", -1, 9, -1);
  }
  const serializer = options.serializer ?? pylibmcSerializer;
  if (
    typeof serializer?.serialize !== "function" || typeof serializer.deserialize !== "function"
  ) {
    throw new TypeError("serializer must have serialize() and deserialize()");
  }
  const codec = new Codec(serializer, compression, maxValueSize);
  const connectTimeout = either(options.connectTimeout, behaviors.connectTimeout, "connectTimeout");
  const protocol = options.protocol ?? "auto";
  if (!["auto", "meta", "text", "binary"].includes(protocol)) {
    throw new InvalidArguments(
      `protocol must be "auto", "meta", "text" or "binary", not ${JSON.stringify(protocol)}`,
    );
  }
  const credentials = checkCredentials(options.username, options.password, protocol);
  const cluster = new Cluster(parsed, behaviors, {
    connectTimeout: millis(connectTimeout, "connectTimeout", 4000),
    maxValueSize,
    textFlags: codec.textFlags,
    asciiText: asciiTextFor(runtime),
    connector: options.connector ?? defaultConnector,
    socket: { noDelay: behaviors.noDelay, keepAlive: behaviors.keepAlive },
    stallTimeout: timeout,
    maxConnections: integer(options.maxConnections, "maxConnections", 1, 1024, 2),
    idleTimeout: millis(options.idleTimeout, "idleTimeout", 30_000),
    binary: protocol === "binary",
    hello: credentials && authentication(credentials, protocol === "binary"),
    tls: checkTls(options.tls),
    perRequest: runtime === "workers",
  }, previous);
  const replicated = behaviors.replicas > 0;
  const ttl = integer(options.ttl, "ttl", 0, MAX_TTL, 0);
  const batchGets = options.batchGets ?? true;
  if (typeof batchGets !== "boolean") throw new TypeError("batchGets must be a boolean");
  if (options.onCommand !== undefined && typeof options.onCommand !== "function") {
    throw new TypeError("onCommand must be a function");
  }
  const binaryKeys = options.binaryKeys ?? false;
  if (typeof binaryKeys !== "boolean") throw new TypeError("binaryKeys must be a boolean");
  if (binaryKeys && protocol === "text") {
    throw new NotSupportedError("binaryKeys needs the meta or binary protocol");
  }
  const router = new Router(cluster, {
    protocol,
    timeout,
    replicated,
    binaryKeys,
    onCommand: options.onCommand,
    retry: retryPolicy(options.retry),
  });
  const keys = new KeyEncoder(prefix, binaryKeys, protocol !== "binary" && !binaryKeys);
  const reader = new Reader(router, cluster, codec, keys);
  return {
    servers: Object.freeze(list),
    cluster,
    router,
    reader,
    codec,
    keys,
    maxValueSize,
    batchGets,
    replicated,
    ttl,
  };
}

/** An option that may be given directly or as a behavior, but not both. */
function either(direct: number | undefined, behavior: number | undefined, name: string) {
  if (direct !== undefined && behavior !== undefined) {
    throw new InvalidArguments(`${name} is given twice: as an option and as a behavior`);
  }
  return direct ?? behavior;
}

/**
 * Starts auto discovery (see `ClientOptions.discovery`): `changed` gets the
 * nodes whenever their version changes; a failed question goes to
 * `onCommand` as a `"discover"` event.
 */
export function discover(
  options: ClientOptions,
  timeout: number,
  changed: (servers: string[]) => void,
): Discovery {
  const { endpoint, interval } = options.discovery!;
  checkNames(options.discovery, ["endpoint", "interval"], "discovery");
  if (typeof endpoint !== "string") throw new TypeError("discovery.endpoint must be a string");
  const seconds = integer(interval, "discovery.interval", 1, 86_400, 60);
  const server = parseServer(endpoint);
  return new Discovery({
    endpoint: server,
    name: endpoint,
    interval: seconds * 1000,
    timeout,
    connector: options.connector ?? defaultConnector,
    socket: {
      noDelay: true,
      keepAlive: false,
      tls: server.kind === "tcp" && server.tls ? checkTls(options.tls) ?? {} : undefined,
    },
    changed: (config) => changed(config.servers),
    failed: (error) =>
      tell(options.onCommand, { operation: "discover", server: endpoint, duration: 0, error }),
  });
}
