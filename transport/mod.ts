/**
 * Picks the socket adapter for the runtime this code runs on, once.
 *
 * @module
 */
import { Status } from "../protocol/status.ts";
import { connectBun } from "./bun.ts";
import { connectDeno } from "./deno.ts";
import { type Connector, SocketFailure } from "./types.ts";

export * from "./types.ts";

/** The runtime this code runs on, as far as sockets are concerned. */
export const runtime: "deno" | "bun" | "unknown" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "unknown";

/** The connector for this runtime. */
export const defaultConnector: Connector = runtime === "deno"
  ? connectDeno
  : runtime === "bun"
  ? connectBun
  : () =>
    Promise.reject(
      new SocketFailure(
        Status.NOT_SUPPORTED,
        "no socket adapter for this runtime (Deno and Bun are supported)",
      ),
    );
