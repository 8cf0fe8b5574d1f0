/**
 * The Deno adapter: `Deno.connect` for TCP (with no-delay) and Unix sockets,
 * `Deno.connectTls` (or `Deno.startTls` for another server name) for TLS.
 *
 * @module
 */
import { Status } from "../protocol/status.ts";
import {
  type Address,
  connectFailure,
  readFailure,
  type Socket,
  type SocketEvents,
  SocketFailure,
  type SocketOptions,
  tlsFailure,
  writeFailure,
} from "./types.ts";

interface DenoConn {
  read(buf: Uint8Array): Promise<number | null>;
  write(buf: Uint8Array): Promise<number>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
  setKeepAlive?(keepAlive?: boolean): void;
  ref?(): void;
  unref?(): void;
}

interface DenoTlsConn extends DenoConn {
  handshake(): Promise<unknown>;
}

interface DenoNet {
  connect(
    options:
      | { hostname: string; port: number; transport: "tcp" }
      | { path: string; transport: "unix" },
  ): Promise<DenoConn>;
  connectTls(options: {
    hostname: string;
    port: number;
    caCerts?: string[];
    cert?: string;
    key?: string;
  }): Promise<DenoTlsConn>;
  startTls(conn: DenoConn, options: { hostname: string; caCerts?: string[] }): Promise<DenoTlsConn>;
}

/** The read buffer size: large enough for a big value in few reads. */
const READ_SIZE = 256 * 1024;

/** Connects with Deno's socket API. */
export async function connectDeno(
  address: Address,
  events: SocketEvents,
  options: SocketOptions,
): Promise<Socket> {
  const deno = (globalThis as unknown as { Deno: DenoNet }).Deno;
  const tls = options.tls;
  if (tls?.rejectUnauthorized === false) {
    throw new SocketFailure(
      Status.NOT_SUPPORTED,
      "tls.rejectUnauthorized: false is not available on Deno (trust the server's CA with tls.ca)",
    );
  }
  if (tls && address.kind === "tcp" && tls.serverName && tls.cert) {
    throw new SocketFailure(
      Status.NOT_SUPPORTED,
      "tls.serverName with a client certificate is not available on Deno",
    );
  }
  let conn: DenoConn;
  try {
    if (tls && address.kind === "tcp" && !tls.serverName) {
      conn = await deno.connectTls({
        hostname: address.host,
        port: address.port,
        caCerts: caList(tls.ca),
        ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
      });
    } else {
      conn = await deno.connect(
        address.kind === "tcp"
          ? { hostname: address.host, port: address.port, transport: "tcp" }
          : { path: address.path, transport: "unix" },
      );
    }
  } catch (err) {
    throw connectFailure(address, err);
  }
  if (address.kind === "tcp") {
    conn.setNoDelay?.(options.noDelay);
    conn.setKeepAlive?.(options.keepAlive);
  }
  if (tls) {
    try {
      if (tls.serverName) {
        conn = await deno.startTls(conn, { hostname: tls.serverName, caCerts: caList(tls.ca) });
      }
      await (conn as DenoTlsConn).handshake();
    } catch (err) {
      try {
        conn.close();
      } catch { /* already closed by the runtime */ }
      throw tlsFailure(err);
    }
  }
  let closed = false;

  (async () => {
    const buf = new Uint8Array(READ_SIZE);
    let failure: SocketFailure | undefined;
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null || closed) break;
        events.data(buf.subarray(0, n));
        if (closed) break;
      }
    } catch (err) {
      failure = readFailure(err, tls !== undefined);
    }
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch { /* already closed by the runtime */ }
    events.closed(failure);
  })();

  return {
    async write(bytes: Uint8Array): Promise<void> {
      try {
        let at = 0;
        while (at < bytes.length) at += await conn.write(bytes.subarray(at));
      } catch (err) {
        throw writeFailure(err);
      }
    },
    close(): void {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch { /* already closed by the runtime */ }
    },
    setRef(ref: boolean): void {
      if (ref) conn.ref?.();
      else conn.unref?.();
    },
  };
}

/** The CA certificates as a list, or `undefined` for the runtime's defaults. */
export function caList(ca: string | string[] | undefined): string[] | undefined {
  return ca === undefined ? undefined : Array.isArray(ca) ? ca : [ca];
}
