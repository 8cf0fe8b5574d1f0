/**
 * The small interface every runtime's socket adapter implements. Nothing
 * above `transport/` touches a runtime's socket API.
 *
 * @module
 */
import { Status } from "../protocol/status.ts";

/** Where a server listens; `tls` for a server that must be spoken to over TLS. */
export type Address =
  | { kind: "tcp"; host: string; port: number; tls?: boolean }
  | { kind: "unix"; path: string };

/**
 * TLS settings. The server's certificate is always verified unless
 * `rejectUnauthorized` is `false` (not available on Deno); a failed
 * verification never falls back to plain text.
 */
export interface TlsOptions {
  /** Certificate authorities (PEM) to trust instead of the runtime's defaults. */
  ca?: string | string[];
  /** A client certificate chain (PEM), for servers that require one (mutual TLS). */
  cert?: string;
  /** The client certificate's private key (PEM). */
  key?: string;
  /** The name the server's certificate must carry, when it is not the host connected to. */
  serverName?: string;
  /** Whether to refuse a server whose certificate does not verify. Default `true`. */
  rejectUnauthorized?: boolean;
}

/** What a socket reports to its owner. */
export interface SocketEvents {
  /** Bytes arrived; `chunk` may be reused once this returns. */
  data(chunk: Uint8Array): void;
  /** The socket closed: by the peer, or with a read failure. Not called after `close()`. */
  closed(failure?: SocketFailure): void;
}

/** An open connection. */
export interface Socket {
  /**
   * Writes all of `bytes`; resolves once they are handed to the system, and
   * rejects with a {@linkcode SocketFailure}. `bytes` must stay unchanged
   * until then, and one write must finish before the next starts.
   */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the socket; no event follows. */
  close(): void;
  /**
   * Whether the open socket keeps the process alive: `true` while requests
   * wait for replies, `false` while it is idle, so that a script that
   * forgets to close its client still exits. Adapters without the notion
   * (Workers) leave it out.
   */
  setRef?(ref: boolean): void;
}

/** TCP settings for a new socket; Unix sockets ignore them. */
export interface SocketOptions {
  /** Send small writes at once (TCP_NODELAY). */
  noDelay: boolean;
  /** Probe idle connections (SO_KEEPALIVE). */
  keepAlive: boolean;
  /** Speak TLS with these settings. */
  tls?: TlsOptions;
}

/** Opens a socket to `address`, or rejects with a {@linkcode SocketFailure}. */
export type Connector = (
  address: Address,
  events: SocketEvents,
  options: SocketOptions,
) => Promise<Socket>;

/**
 * A socket failure with the libmemcached status it stands for, e.g.
 * CONNECTION_FAILURE for a refused connection.
 */
export class SocketFailure extends globalThis.Error {
  /** The status of this failure. */
  readonly status: Status;
  /** Whether TLS failed: the connection is refused as insecure. */
  tls = false;
  /**
   * Whether a failed write sent nothing and the socket is unusable in this
   * context only (a Workers socket opened by another request): the server
   * is not at fault, and the requests go on a new socket.
   */
  unsent = false;

  /** Makes a failure of `status` that says `message`. */
  constructor(status: Status, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.status = status;
  }
}

/** A write that failed: the socket is closed, or reported `cause`. */
export function writeFailure(cause?: unknown): SocketFailure {
  const why = cause === undefined ? "socket closed" : describe(cause);
  return new SocketFailure(Status.WRITE_FAILURE, `write failed: ${why}`, cause);
}

/**
 * A TLS handshake that failed: the certificate did not verify, the name did
 * not match, or the server wanted a client certificate.
 */
export function tlsFailure(err: unknown): SocketFailure {
  const failure = new SocketFailure(
    Status.CONNECTION_FAILURE,
    `TLS handshake failed: ${describe(err)}`,
    err,
  );
  failure.tls = true;
  return failure;
}

/**
 * A read side that failed: the socket reported `err`. On a TLS socket a TLS
 * alert is a TLS failure: with TLS 1.3 a server that refuses the client's
 * certificate says so only after the handshake.
 */
export function readFailure(err: unknown, tls = false): SocketFailure {
  if (tls && /alert|certificate/i.test(describe(err))) return tlsFailure(err);
  return new SocketFailure(Status.READ_FAILURE, `socket error: ${describe(err)}`, err);
}

function describe(err: unknown): string {
  return err instanceof globalThis.Error ? err.message : String(err);
}

/**
 * Lets a timer run without keeping the process alive: `unref()` on Node and
 * Bun, `Deno.unrefTimer` on Deno; nothing where timers have no such notion.
 */
export function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    (timer as { unref(): void }).unref();
    return;
  }
  const deno = (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno;
  if (typeof timer === "number") deno?.unrefTimer?.(timer);
}

/** The `host:port` or socket path of an address, as errors name servers. */
export function addressName(address: Address): string {
  if (address.kind === "unix") return address.path;
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

/**
 * The failure for an error raised while connecting, read from its name,
 * code and message, which differ between runtimes.
 */
export function connectFailure(address: Address, err: unknown): SocketFailure {
  const name = err instanceof globalThis.Error ? err.name : "";
  const code = String((err as { code?: unknown })?.code ?? "");
  const text = err instanceof globalThis.Error ? err.message : String(err);
  const all = `${name} ${code} ${text}`;
  if (/NotCapable|PermissionDenied|Requires net access|--allow-/i.test(all)) {
    const flag = address.kind === "unix" ? "--allow-read --allow-write" : "--allow-net";
    return new SocketFailure(
      Status.ERRNO,
      `cannot create a socket: permission denied (run Deno with ${flag})`,
      err,
    );
  }
  if (address.kind === "unix") {
    const why = /ENOENT|NotFound|No such file/i.test(all)
      ? "no such socket file"
      : /ECONNREFUSED|ConnectionRefused|refused/i.test(all)
      ? "connection refused"
      : text;
    return new SocketFailure(Status.FAIL_UNIX_SOCKET, why, err);
  }
  if (
    /lookup|ENOTFOUND|EAI_|DNS|getaddrinfo|Name or service|nodename|resolve/i
      .test(all)
  ) {
    return new SocketFailure(
      Status.HOST_LOOKUP_FAILURE,
      `cannot resolve host ${address.host}`,
      err,
    );
  }
  if (/ECONNREFUSED|ConnectionRefused|refused/i.test(all)) {
    return new SocketFailure(Status.CONNECTION_FAILURE, "connection refused", err);
  }
  return new SocketFailure(Status.CONNECTION_FAILURE, `cannot connect: ${text}`, err);
}
