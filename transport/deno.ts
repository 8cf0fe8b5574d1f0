/**
 * The Deno adapter: `Deno.connect` for TCP (with no-delay) and Unix sockets.
 *
 * @module
 */
import {
  type Address,
  connectFailure,
  readFailure,
  type Socket,
  type SocketEvents,
  type SocketFailure,
  type SocketOptions,
  writeFailure,
} from "./types.ts";

interface DenoConn {
  read(buf: Uint8Array): Promise<number | null>;
  write(buf: Uint8Array): Promise<number>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
  setKeepAlive?(keepAlive?: boolean): void;
}

interface DenoNet {
  connect(
    options:
      | { hostname: string; port: number; transport: "tcp" }
      | { path: string; transport: "unix" },
  ): Promise<DenoConn>;
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
  let conn: DenoConn;
  try {
    conn = await deno.connect(
      address.kind === "tcp"
        ? { hostname: address.host, port: address.port, transport: "tcp" }
        : { path: address.path, transport: "unix" },
    );
  } catch (err) {
    throw connectFailure(address, err);
  }
  if (address.kind === "tcp") {
    conn.setNoDelay?.(options.noDelay);
    conn.setKeepAlive?.(options.keepAlive);
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
      failure = readFailure(err);
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
  };
}
