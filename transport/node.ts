/**
 * The Node adapter: `node:net` for TCP and Unix sockets. It is the default
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
  writeFailure,
} from "./types.ts";

interface NodeSocket {
  setNoDelay(noDelay: boolean): void;
  setKeepAlive(enable: boolean): void;
  write(data: Uint8Array, callback: (err?: unknown) => void): boolean;
  destroy(): void;
  once(event: "connect", listener: () => void): void;
  once(event: "error", listener: (err: unknown) => void): void;
  on(event: "data", listener: (chunk: Uint8Array) => void): void;
  on(event: "error", listener: (err: unknown) => void): void;
  on(event: "close", listener: () => void): void;
  removeAllListeners(event: string): void;
}

interface NodeNet {
  createConnection(options: { host: string; port: number } | { path: string }): NodeSocket;
}

/** Connects with Node's `node:net`. */
export async function connectNode(
  address: Address,
  events: SocketEvents,
  options: SocketOptions,
): Promise<Socket> {
  const net = await import("node:net") as unknown as NodeNet;
  const socket = net.createConnection(
    address.kind === "tcp" ? { host: address.host, port: address.port } : { path: address.path },
  );
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", (err) => reject(connectFailure(address, err)));
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
    failure = readFailure(err);
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
  };
}
