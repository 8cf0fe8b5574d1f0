/**
 * Picks the socket adapter for the runtime this code runs on, once.
 *
 * @module
 */
import { Status } from "../protocol/status.ts";
import type { AsciiText } from "../protocol/ascii.ts";
import { nativeAsciiText, nativeUtf8Length } from "./ascii.ts";
import { connectBun } from "./bun.ts";
import { connectDeno } from "./deno.ts";
import { connectNode } from "./node.ts";
import { type Connector, SocketFailure } from "./types.ts";
import { connectWorkers, workersConnector } from "./workers.ts";

export * from "./types.ts";
export type { WorkersConnect, WorkersSocket } from "./workers.ts";
export { connectBun, connectDeno, connectNode, connectWorkers, workersConnector };

/** A runtime, as far as sockets are concerned. */
export type Runtime = "deno" | "bun" | "workers" | "node" | "unknown";

/**
 * The runtime that `scope` (a global object) belongs to. Workers are told
 * by their `navigator.userAgent`, since they may also provide Node's
 * `process` for compatibility.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "./mod.ts";
 * detectRuntime({ navigator: { userAgent: "Cloudflare-Workers" } }); // "workers"
 * ```
 */
export function detectRuntime(scope: object): Runtime {
  const g = scope as {
    Deno?: unknown;
    Bun?: unknown;
    navigator?: { userAgent?: string };
    process?: { versions?: { node?: string } };
  };
  if (g.Deno !== undefined) return "deno";
  if (g.Bun !== undefined) return "bun";
  if (g.navigator?.userAgent === "Cloudflare-Workers") return "workers";
  if (g.process?.versions?.node) return "node";
  return "unknown";
}

/** The runtime this code runs on. */
export const runtime: Runtime = detectRuntime(globalThis);

const unsupported: Connector = () =>
  Promise.reject(
    new SocketFailure(
      Status.NOT_SUPPORTED,
      "no socket adapter for this runtime (Deno, Bun, Node and Cloudflare Workers are supported)",
    ),
  );

/** The connector for a runtime. */
export function connectorFor(runtime: Runtime): Connector {
  switch (runtime) {
    case "deno":
      return connectDeno;
    case "bun":
      return connectBun;
    case "workers":
      return connectWorkers;
    case "node":
      return connectNode;
    default:
      return unsupported;
  }
}

/** The connector for this runtime. */
export const defaultConnector: Connector = connectorFor(runtime);

export { nativeUtf8Length };

/**
 * How the text decoder reads ASCII bytes into strings on a runtime (see
 * {@linkcode AsciiText}); `undefined` where its own way does.
 */
export function asciiTextFor(runtime: Runtime): AsciiText | undefined {
  return runtime === "deno" || runtime === "bun" || runtime === "node"
    ? nativeAsciiText
    : undefined;
}
