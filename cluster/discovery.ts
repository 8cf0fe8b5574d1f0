/**
 * Auto discovery: asks a configuration endpoint for the cluster's nodes
 * (`config get cluster`, see protocol/discovery.ts) every `interval` and
 * tells the client when their version changes.
 *
 * @module
 */
import { errorFor, type MemcachedError } from "../errors.ts";
import {
  type ClusterConfig,
  CONFIG_GET_CLUSTER,
  configComplete,
  parseClusterConfig,
} from "../protocol/discovery.ts";
import { Status } from "../protocol/status.ts";
import { type Address, type Connector, type SocketOptions, unrefTimer } from "../transport/mod.ts";

/** What discovery needs. */
export interface DiscoveryOptions {
  /** The configuration endpoint. */
  endpoint: Address;
  /** Its name in errors. */
  name: string;
  /** Milliseconds between two questions. */
  interval: number;
  /** Milliseconds one question may take. */
  timeout: number;
  connector: Connector;
  socket: SocketOptions;
  /** Told the nodes when their version changes (and the first time). */
  changed(config: ClusterConfig): void;
  /** Told when a question fails; the servers stay as they were. */
  failed(err: MemcachedError): void;
}

/** Polls a configuration endpoint until stopped. */
export class Discovery {
  readonly #options: DiscoveryOptions;
  #version: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /** Starts polling at once. */
  constructor(options: DiscoveryOptions) {
    this.#options = options;
    this.#next(0);
  }

  /** Stops polling. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #next(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#poll(), ms);
    // Polling is for the client's sake, not the process's.
    unrefTimer(this.#timer);
  }

  async #poll(): Promise<void> {
    try {
      const config = await this.ask();
      if (!this.#stopped && config.version !== this.#version) {
        this.#version = config.version;
        this.#options.changed(config);
      }
    } catch (err) {
      if (!this.#stopped) this.#options.failed(err as MemcachedError);
    }
    this.#next(this.#options.interval);
  }

  /** Asks the endpoint once. */
  ask(): Promise<ClusterConfig> {
    const { endpoint, name, timeout, connector, socket } = this.#options;
    const fail = (status: Status, detail: string, cause?: unknown) =>
      errorFor(status, detail, { operation: "discover", server: name, cause });
    return new Promise((resolve, reject) => {
      let text = "";
      let open: { close(): void } | undefined;
      let done = false;
      const finish = (outcome: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        open?.close();
        outcome();
      };
      const timer = setTimeout(
        () => finish(() => reject(fail(Status.TIMEOUT, `no answer within ${timeout} ms`))),
        timeout,
      );
      unrefTimer(timer);
      const decoder = new TextDecoder();
      connector(endpoint, {
        data(chunk) {
          text += decoder.decode(chunk, { stream: true });
          if (!configComplete(text)) return;
          const config = parseClusterConfig(text);
          finish(() =>
            typeof config === "string"
              ? reject(fail(Status.PROTOCOL_ERROR, config))
              : resolve(config)
          );
        },
        closed(failure) {
          finish(() =>
            reject(fail(Status.CONNECTION_FAILURE, failure?.message ?? "closed before answering"))
          );
        },
      }, socket).then(
        (s) => {
          if (done) return s.close();
          open = s;
          s.write(new TextEncoder().encode(CONFIG_GET_CLUSTER)).catch((err) =>
            finish(() => reject(fail(Status.WRITE_FAILURE, String(err), err)))
          );
        },
        (err) => finish(() => reject(fail(Status.CONNECTION_FAILURE, String(err), err))),
      );
    });
  }
}
