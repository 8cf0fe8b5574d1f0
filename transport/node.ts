/**
 * The Node adapter: `node:net` for TCP and Unix sockets, `node:tls` for TLS. It is the default
 * where neither Deno nor Bun is found, and works on both of them as well.
 * `node:net` is loaded on first use, so runtimes without it can still load
 * this module.
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
  tlsFailure,
  writeFailure,
} from "./types.ts";

interface NodeSocket {
  setNoDelay(noDelay: boolean): void;
  setKeepAlive(enable: boolean): void;
  write(data: Uint8Array, callback: (err?: unknown) => void): boolean;
  destroy(): void;
  once(event: "connect" | "secureConnect", listener: () => void): void;
  once(event: "error", listener: (err: unknown) => void): void;
  on(event: "data", listener: (chunk: Uint8Array) => void): void;
  on(event: "error", listener: (err: unknown) => void): void;
  on(event: "close", listener: () => void): void;
  removeAllListeners(event: string): void;
  ref(): void;
  unref(): void;
}

interface NodeNet {
  createConnection(options: { host: string; port: number } | { path: string }): NodeSocket;
}

interface NodeTls {
  connect(options: {
    host: string;
    port: number;
    ca?: string | string[];
    cert?: string;
    key?: string;
    servername?: string;
    rejectUnauthorized?: boolean;
  }): NodeSocket;
}

/** Connects with Node's `node:net`. */
export async function connectNode(
  address: Address,
  events: SocketEvents,
  options: SocketOptions,
): Promise<Socket> {
  const tls = address.kind === "tcp" ? options.tls : undefined;
  let socket: NodeSocket;
  if (tls && address.kind === "tcp") {
    const node = await import("node:tls") as unknown as NodeTls;
    socket = node.connect({
      host: address.host,
      port: address.port,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      // Node sends no server name for an IP address, and checks the IP then.
      servername: tls.serverName ?? (/^[\d.]+$|:/.test(address.host) ? undefined : address.host),
      rejectUnauthorized: tls.rejectUnauthorized ?? true,
    });
  } else {
    const net = await import("node:net") as unknown as NodeNet;
    socket = net.createConnection(
      address.kind === "tcp" ? { host: address.host, port: address.port } : { path: address.path },
    );
  }
  await new Promise<void>((resolve, reject) => {
    let connected = false;
    socket.once("connect", () => {
      connected = true;
      if (!tls) resolve();
    });
    if (tls) socket.once("secureConnect", resolve);
    socket.once("error", (err) => {
      socket.destroy();
      reject(connected && tls ? tlsFailure(err) : connectFailure(address, err));
    });
  });
  socket.removeAllListeners("error");
  if (address.kind === "tcp") {
    socket.setNoDelay(options.noDelay);
    socket.setKeepAlive(options.keepAlive);
  }
  let closed = false;
  let failure: SocketFailure | undefined;
  socket.on("data", (chunk) => {
    // A Buffer's slice() is a view; the decoder needs a plain Uint8Array.
    if (!closed) events.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  });
  socket.on("error", (err) => {
    failure = readFailure(err, tls !== undefined);
  });
  socket.on("close", () => {
    if (closed) return;
    closed = true;
    events.closed(failure);
  });
  return {
    write(bytes: Uint8Array): Promise<void> {
      if (closed) return Promise.reject(writeFailure());
      return new Promise((resolve, reject) =>
        socket.write(bytes, (err) => err ? reject(writeFailure(err)) : resolve())
      );
    },
    close(): void {
      if (closed) return;
      closed = true;
      socket.destroy();
    },
    setRef(ref: boolean): void {
      if (ref) socket.ref();
      else socket.unref();
    },
  };
}
