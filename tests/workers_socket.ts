/**
 * A stand-in for `connect()` of Cloudflare Workers' `cloudflare:sockets`,
 * following its API (a socket of `readable` and `writable` web streams,
 * `opened`, `closed`, `close()`, `secureTransport`), backed by `node:net` so
 * that the Workers adapter can be tested against a real memcached where the
 * Workers runtime itself cannot run.
 *
 * @module
 */
import { connect as tcp } from "node:net";
import type { WorkersConnect, WorkersSocket } from "../transport/workers.ts";

/** Every socket the stand-in opened, with the options it was given. */
export const opened: { hostname: string; port: number; secureTransport?: string }[] = [];

/** The stand-in `connect()`. Only `secureTransport: "off"` is backed by a real connection. */
export const connect: WorkersConnect = (address, options = {}) => {
  opened.push({ ...address, secureTransport: options.secureTransport });
  const socket = tcp(address.port, address.hostname);
  let settleClosed: () => void;
  const closed = new Promise<void>((resolve) => settleClosed = resolve);
  socket.once("close", () => settleClosed());
  const opening = new Promise<unknown>((resolve, reject) => {
    if (options.secureTransport === "on") {
      socket.destroy();
      return reject(new Error("the stand-in speaks no TLS"));
    }
    socket.once("connect", () => resolve({ remoteAddress: `${address.hostname}:${address.port}` }));
    socket.once("error", reject);
  });
  opening.catch(() => {});
  let ended = false;
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      socket.on("data", (chunk: Uint8Array) => {
        if (!ended) controller.enqueue(new Uint8Array(chunk));
      });
      socket.on("end", () => {
        if (!ended) controller.close();
        ended = true;
      });
      socket.on("error", (err) => {
        if (!ended) controller.error(err);
        ended = true;
      });
    },
    cancel() {
      ended = true;
      socket.destroy();
    },
  });
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) =>
      new Promise<void>((resolve, reject) =>
        socket.write(chunk, (err) => err ? reject(err) : resolve())
      ),
    close: () => void socket.end(),
  });
  const stand: WorkersSocket = {
    readable,
    writable,
    opened: opening,
    closed,
    close: () => {
      socket.destroy();
      return closed;
    },
  };
  return stand;
};
