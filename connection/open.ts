/**
 * Opening a connection's socket: plain or TLS as the address and options
 * say, bounded by the connect timeout, and the login it sends first.
 *
 * @module
 */
import { Status } from "../protocol/status.ts";
import {
  type Address,
  type Socket,
  type SocketEvents,
  SocketFailure,
  unrefTimer,
} from "../transport/mod.ts";
import { type Pending, QUEUED } from "./inflight.ts";
import type { ConnectionOptions, Hello } from "./request.ts";

/** A socket being opened. */
export interface Opening {
  /** The open socket, or a SocketFailure: TIMEOUT after `connectTimeout`. */
  socket: Promise<Socket>;
  /** Gives up: a socket that opens later is closed at once. */
  cancel(): void;
}

/** Opens a socket to `address` that reports to `events`. */
export function openSocket(
  address: Address,
  options: ConnectionOptions,
  events: SocketEvents,
): Opening {
  let done = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cancel = () => {
    done = true;
    clearTimeout(timer);
  };
  const tls = address.kind === "tcp" && (address.tls || options.tls)
    ? options.tls ?? {}
    : undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      done = true;
      const ms = options.connectTimeout;
      reject(new SocketFailure(Status.TIMEOUT, `could not connect within ${ms} ms`));
    }, options.connectTimeout);
    // A connect under way keeps the process alive by itself.
    unrefTimer(timer);
  });
  const connected = options.connector(
    address,
    events,
    tls ? { ...options.socket, tls } : options.socket,
  ).then((socket) => {
    if (done) {
      socket.close();
      throw new SocketFailure(Status.CONNECTION_FAILURE, "connect abandoned");
    }
    cancel();
    return socket;
  }, (failure: SocketFailure) => {
    cancel();
    throw failure;
  });
  // The loser of the race is settled too: nothing is left unhandled.
  connected.catch(() => {});
  timedOut.catch(() => {});
  return { socket: Promise.race([connected, timedOut]), cancel };
}

/**
 * The login a new socket sends first, as a request: `answered` is told
 * once, with the failure when the server refused it, or nothing when it
 * accepted it or the request ended otherwise (its socket is gone).
 */
export function loginOf(
  hello: Hello,
  timeout: number,
  answered: (failure?: { status: Status; detail: string }) => void,
): Pending {
  return {
    spec: { encode: hello.encode, expect: hello.expect, operation: hello.operation, timeout },
    state: QUEUED,
    deadline: Number.isFinite(timeout) ? Date.now() + timeout : Infinity,
    resolve: (reply) => answered(hello.check(reply)),
    reject: () => answered(),
  };
}
