/**
 * The Cloudflare Workers adapter: `connect()` from `cloudflare:sockets`,
 * whose sockets are a pair of web streams. It is the default inside Workers;
 * {@linkcode workersConnector} builds it from a `connect` function given
 * explicitly, for bundlers that cannot load `cloudflare:sockets` lazily.
 *
 * Workers sockets are TCP only, and TLS there uses the platform's trusted
 * CAs: a private CA, a client certificate, another server name or turning
 * verification off are NotSupportedError.
 *
 * @module
 */
import { Status } from "../protocol/status.ts";
import {
  type Address,
  connectFailure,
  type Connector,
  readFailure,
  type Socket,
  type SocketEvents,
  SocketFailure,
  type SocketOptions,
  tlsFailure,
  writeFailure,
} from "./types.ts";

/** How Workers refuse I/O on a socket that another request opened. */
const FOREIGN = /on behalf of a different request/;

/** A socket as `connect()` of `cloudflare:sockets` returns it. */
export interface WorkersSocket {
  /** Bytes from the server. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the server. */
  readonly writable: WritableStream<Uint8Array>;
  /** Settles once the connection is open, or failed to open. */
  readonly opened: Promise<unknown>;
  /** Settles once the socket is closed. */
  readonly closed: Promise<void>;
  /** Closes the socket. */
  close(): Promise<void>;
}

/** `connect()` of `cloudflare:sockets`. */
export type WorkersConnect = (
  address: { hostname: string; port: number },
  options?: { secureTransport?: "off" | "on" | "starttls"; allowHalfOpen?: boolean },
) => WorkersSocket;

/**
 * A connector over a Workers-style `connect` function.
 *
 * @example
 * ```ts ignore
 * import { connect } from "cloudflare:sockets";
 * import { Client, workersConnector } from "jsr:@seed/memcached";
 * const client = new Client("cache.example.com:11211", { connector: workersConnector(connect) });
 * ```
 */
export function workersConnector(connect: WorkersConnect): Connector {
  return (address, events, options) => open(connect, address, events, options);
}

/** The Workers connector, loading `cloudflare:sockets` on first use. */
export async function connectWorkers(
  address: Address,
  events: SocketEvents,
  options: SocketOptions,
): Promise<Socket> {
  // A specifier in a variable: only the Workers runtime can resolve it, and
  // type checkers elsewhere must not try.
  const specifier = "cloudflare:sockets";
  let connect: WorkersConnect;
  try {
    ({ connect } = await import(specifier) as { connect: WorkersConnect });
  } catch (err) {
    throw new SocketFailure(Status.NOT_SUPPORTED, "cloudflare:sockets is not available", err);
  }
  return open(connect, address, events, options);
}

async function open(
  connect: WorkersConnect,
  address: Address,
  events: SocketEvents,
  options: SocketOptions,
): Promise<Socket> {
  if (address.kind !== "tcp") {
    throw new SocketFailure(Status.NOT_SUPPORTED, "Workers sockets cannot reach a Unix socket");
  }
  const tls = options.tls;
  if (
    tls && (tls.ca !== undefined || tls.cert !== undefined || tls.serverName !== undefined ||
      tls.rejectUnauthorized === false)
  ) {
    throw new SocketFailure(
      Status.NOT_SUPPORTED,
      "Workers sockets take only tls: true (the platform's trusted CAs, the host's own name)",
    );
  }
  let socket: WorkersSocket;
  try {
    socket = connect(
      { hostname: address.host, port: address.port },
      { secureTransport: tls ? "on" : "off", allowHalfOpen: false },
    );
    await socket.opened;
  } catch (err) {
    throw tls && /certificate|TLS|SSL|handshake/i.test(String(err))
      ? tlsFailure(err)
      : connectFailure(address, err);
  }
  const writer = socket.writable.getWriter();
  const reader = socket.readable.getReader();
  let closed = false;

  (async () => {
    let failure: SocketFailure | undefined;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || closed) break;
        events.data(value);
        if (closed) break;
      }
    } catch (err) {
      failure = readFailure(err, tls !== undefined);
    }
    if (closed) return;
    closed = true;
    socket.close().catch(() => {});
    events.closed(failure);
  })();

  return {
    async write(bytes: Uint8Array): Promise<void> {
      if (closed) throw writeFailure();
      try {
        await writer.write(bytes);
      } catch (err) {
        const failure = writeFailure(err);
        // A socket belongs to the request that opened it; another request's
        // write is refused before anything is sent.
        failure.unsent = FOREIGN.test(String(err));
        throw failure;
      }
    },
    close(): void {
      if (closed) return;
      closed = true;
      try {
        reader.cancel().catch(() => {});
        socket.close().catch(() => {});
      } catch {
        // Another request's socket: the runtime closes it when that request ends.
      }
    },
  };
}
