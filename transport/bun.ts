/**
 * The Bun adapter: `Bun.connect` for TCP (with no-delay), TLS and Unix
 * sockets.
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
  type TlsOptions,
  writeFailure,
} from "./types.ts";

interface BunSocket {
  write(data: Uint8Array): number;
  end(): void;
  setNoDelay?(noDelay?: boolean): boolean;
  setKeepAlive?(enable?: boolean, initialDelay?: number): boolean;
  ref?(): void;
  unref?(): void;
}

interface BunHandlers {
  binaryType?: "uint8array";
  data(socket: BunSocket, chunk: Uint8Array): void;
  drain(socket: BunSocket): void;
  close(socket: BunSocket, err?: unknown): void;
  error(socket: BunSocket, err: unknown): void;
  end(socket: BunSocket): void;
  handshake?(socket: BunSocket, success: boolean, authorizationError: unknown): void;
}

interface BunNet {
  connect(
    options:
      & ({ hostname: string; port: number; tls?: TlsOptions | true } | { unix: string })
      & { socket: BunHandlers },
  ): Promise<BunSocket>;
}

/** Connects with Bun's socket API. */
export async function connectBun(
  address: Address,
  events: SocketEvents,
  options: SocketOptions,
): Promise<Socket> {
  const bun = (globalThis as unknown as { Bun: BunNet }).Bun;
  let closed = false;
  let failure: SocketFailure | undefined;
  let pending: { rest: Uint8Array; done(err?: SocketFailure): void } | undefined;

  let shaken: ((err?: unknown) => void) | undefined;
  const handshake = options.tls && address.kind === "tcp"
    ? new Promise<void>((resolve, reject) => {
      shaken = (err) => {
        shaken = undefined;
        if (err === undefined) resolve();
        else reject(tlsFailure(err));
      };
    })
    : undefined;
  // Awaited only once the socket opens: a connection that never opens must
  // not leave its rejection unhandled.
  handshake?.catch(() => {});
  const finish = (err?: SocketFailure) => {
    const write = pending;
    pending = undefined;
    write?.done(err);
  };
  const handlers: BunHandlers = {
    // A Buffer's slice() is a view, not a copy, and the decoder relies on
    // slice() copying: ask for plain Uint8Arrays (cheaper than rewrapping).
    binaryType: "uint8array",
    data(_socket, chunk) {
      if (closed) return;
      events.data(
        Object.getPrototypeOf(chunk) === Uint8Array.prototype
          ? chunk
          : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
    },
    drain(socket) {
      if (!pending) return;
      const n = socket.write(pending.rest);
      if (n < 0) return finish(writeFailure());
      pending.rest = pending.rest.subarray(n);
      if (pending.rest.length === 0) finish();
    },
    error(_socket, err) {
      failure = readFailure(err, options.tls !== undefined);
    },
    end(socket) {
      socket.end();
    },
    handshake(socket, success, authorizationError) {
      if (success && (!authorizationError || options.tls?.rejectUnauthorized === false)) {
        return shaken?.();
      }
      shaken?.(authorizationError ?? new Error("the server's certificate was refused"));
      closed = true;
      socket.end();
    },
    close() {
      shaken?.(new Error("the server closed the connection during the handshake"));
      finish(writeFailure());
      if (closed) return;
      closed = true;
      events.closed(failure);
    },
  };

  let socket: BunSocket;
  try {
    socket = await bun.connect(
      address.kind === "tcp"
        ? {
          hostname: address.host,
          port: address.port,
          socket: handlers,
          // Bun takes an empty settings object for no TLS at all.
          ...(options.tls ? { tls: Object.keys(options.tls).length ? options.tls : true } : {}),
        }
        : { unix: address.path, socket: handlers },
    );
  } catch (err) {
    throw connectFailure(address, err);
  }
  if (handshake) await handshake;
  if (address.kind === "tcp") {
    socket.setNoDelay?.(options.noDelay);
    socket.setKeepAlive?.(options.keepAlive);
  }

  return {
    write(bytes: Uint8Array): Promise<void> {
      if (closed) return Promise.reject(writeFailure());
      const n = socket.write(bytes);
      if (n < 0) return Promise.reject(writeFailure());
      if (n === bytes.length) return Promise.resolve();
      return new Promise((resolve, reject) => {
        pending = {
          rest: bytes.subarray(n),
          done: (err) => err ? reject(err) : resolve(),
        };
      });
    },
    close(): void {
      if (closed) return;
      closed = true;
      socket.end();
    },
    setRef(ref: boolean): void {
      if (ref) socket.ref?.();
      else socket.unref?.();
    },
  };
}
