/**
 * Picks the socket adapter for the runtime this code runs on, once.
 *
 * @module
 */
import { Status } from "../protocol/status.ts";
import { connectBun } from "./bun.ts";
import { connectDeno } from "./deno.ts";
import { connectNode } from "./node.ts";
import { type Connector, SocketFailure } from "./types.ts";

export * from "./types.ts";
export { connectBun, connectDeno, connectNode };

/** The runtime this code runs on, as far as sockets are concerned. */
export const runtime: "deno" | "bun" | "node" | "unknown" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node
  ? "node"
  : "unknown";

/** The connector for this runtime. */
export const defaultConnector: Connector = runtime === "deno"
  ? connectDeno
  : runtime === "bun"
  ? connectBun
  : runtime === "node"
  ? connectNode
  : () =>
    Promise.reject(
      new SocketFailure(
        Status.NOT_SUPPORTED,
        "no socket adapter for this runtime (Deno, Bun and Node are supported)",
      ),
    );
