/**
 * What a connection is given: its options, the requests it
 * carries, the login it sends first on every socket, and the check that a
 * reply is the answer to its request.
 *
 * @module
 */
import { errorFor, type MemcachedError, TlsError } from "../errors.ts";
import type { AsciiText } from "../protocol/ascii.ts";
import { sameKey, type SentKey } from "../protocol/keys.ts";
import type { Expect, Reply } from "../protocol/reply.ts";
import type { Status } from "../protocol/status.ts";
import { decodeKey } from "../protocol/text.ts";
import type { ByteWriter } from "../protocol/writer.ts";
import type { Connector, SocketOptions, TlsOptions } from "../transport/mod.ts";

/** How a connection behaves. */
export interface ConnectionOptions {
  /** Milliseconds to wait for a socket to open. */
  connectTimeout: number;
  /** The largest item a reply may announce. */
  maxValueSize: number;
  /** Flags of items whose data the text decoder reads as text (see TextReplyParser). */
  textFlags?: readonly number[];
  /** How the text decoder reads ASCII bytes into strings (see AsciiText). */
  asciiText?: AsciiText;
  /** Opens sockets. */
  connector: Connector;
  /** TCP settings of new sockets. */
  socket: SocketOptions;
  /**
   * Milliseconds without a byte from the server, while requests are
   * outstanding, after which the server counts as failed: the socket is
   * closed and replaced (the client's `timeout`), whatever the requests' own
   * deadlines.
   */
  stallTimeout: number;
  /** Called whenever the connection has nothing queued or in flight any more. */
  onIdle?: () => void;
  /**
   * Told when the connection meets a failure that counts against the server
   * (see `consequence` in errors.ts): a connect that failed or timed out, a
   * socket that broke, or a server silent for `stallTimeout`. A caller's
   * own deadline or abort is never one.
   */
  onFailure?: (err: MemcachedError) => void;
  /** Told when a new socket receives its first reply: the server answers. */
  onAnswered?: () => void;
  /** Whether replies are binary-protocol packets rather than text. */
  binary?: boolean;
  /** A request sent first on every new socket, before any other. */
  hello?: Hello;
  /** TLS settings for every TCP server; `memcacheds://` servers use them too. */
  tls?: TlsOptions;
  /**
   * Whether a socket belongs to the request that opened it, as in
   * Cloudflare Workers: a reply read on it must not settle another
   * request's promise, so connections are shared only while idle.
   */
  perRequest?: boolean;
}

/**
 * The first request on every new socket, e.g. authentication. Nothing else
 * is written to the socket until it is answered; when `check` says the reply
 * is a failure, every request waiting behind it fails with that status and
 * the socket is closed.
 */
export interface Hello {
  /** Writes the request's bytes. */
  encode(w: ByteWriter): void;
  /** The kind of reply it expects. */
  expect: Expect;
  /** Names the request in errors, e.g. `"authenticate"`. */
  operation: string;
  /** `undefined` when the reply is a success, else the failure's status and detail. */
  check(reply: Reply): { status: Status; detail: string } | undefined;
}

/** One request as the connection sees it. */
export interface RequestSpec {
  /** Writes the request's bytes; called once, when the request is sent. */
  encode(w: ByteWriter): void;
  /** The kind of reply the request expects. */
  expect: Expect;
  /** Names the request in errors, e.g. `"get"`. */
  operation: string;
  /** Names the key in errors, when there is one. */
  key?: string;
  /** Milliseconds the whole request may take; `Infinity` for no limit. */
  timeout: number;
  /** Abandons the request when aborted; it rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * A command that proxies such as twemproxy refuse by closing the
   * connection (stats, flush_all): when the connection closes before any of
   * its reply arrives, it fails with NotSupportedError instead of
   * ConnectionError.
   */
  refusable?: boolean;
  /**
   * The opaque token a meta reply must echo: a reply with another token
   * belongs to another request, so the connection can no longer be trusted.
   */
  opaque?: string;
  /** The keys of a multi-key get, in order, for the decoder to number its items by. */
  keys?: readonly SentKey[];
  /**
   * Send it on a connection of its own, closed after the reply: for
   * commands memcached refuses to take pipelined (`lru_crawler metadump`).
   */
  alone?: boolean;
  /** Told once the request's bytes are handed to the socket (for writes nobody waits on). */
  written?: () => void;
}

/**
 * Why `reply` cannot be the answer to `spec`, when it belongs to another
 * request: a meta reply echoing another opaque token, or an item naming a
 * key that was not asked for. The stream is then out of step.
 */
export function strangerIn(spec: RequestSpec, reply: Reply): string | undefined {
  if (spec.opaque !== undefined && reply.meta && reply.meta.flags.O !== spec.opaque) {
    return `reply for opaque ${reply.meta.flags.O} to a request with opaque ${spec.opaque}`;
  }
  const items = reply.items;
  if (!items || !spec.keys) return undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    // Items in the order asked carry their index; only others are searched.
    if (item.index !== undefined || spec.keys.some((k) => sameKey(k, item.key))) continue;
    return `an item for ${JSON.stringify(decodeKey(item.key))}, which was not asked for`;
  }
  return undefined;
}

/**
 * The error of a failure on `server`: for the request `spec` when there is
 * one, a TlsError when TLS failed.
 */
export function failureAt(
  server: string,
  status: Status,
  detail: string,
  spec?: RequestSpec,
  cause?: unknown,
  tls = false,
): MemcachedError {
  const details = {
    operation: spec?.operation,
    key: spec?.key,
    server,
    ...(cause === undefined ? {} : { cause }),
  };
  return tls ? new TlsError(detail, { ...details, status }) : errorFor(status, detail, details);
}
