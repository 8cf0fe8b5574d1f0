/**
 * {@linkcode Health}: whether each server is in service, from the failures
 * its connections report, and when a failed one is probed to come back.
 *
 * @module
 */
import type { MemcachedError } from "../errors.ts";
import { unrefTimer } from "../transport/mod.ts";
import type { Resolved } from "./behaviors.ts";

/**
 * A server's state: `"up"` in service; `"down"` failed recently, its keys
 * fail fast with ServerDown until a probe finds it answering; `"ejected"`
 * out of the placement (with `auto_eject`), its keys served by the others.
 */
export type ServerState = "up" | "down" | "ejected";

/** What {@linkcode Client.health} tells of one server. */
export interface ServerHealth {
  /** The server: `host:port` or the socket path. */
  server: string;
  /** Whether it is in service. */
  state: ServerState;
  /** Failures in a row (connects that failed or timed out, sockets that broke or went silent). */
  failures: number;
  /**
   * Until when (milliseconds since the epoch) it is left alone; a probe
   * then decides whether it comes back. `undefined` while it is up.
   */
  downUntil?: number;
  /** The last failure, if any. */
  lastError?: MemcachedError;
}

/** The shortest wait between two probes of a server, so that a refused one is not hammered. */
const MIN_PROBE_INTERVAL = 100;

interface Entry {
  state: ServerState;
  failures: number;
  downUntil: number;
  lastError?: MemcachedError;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * The health of a client's servers, as pylibmc's behaviors rule it: a
 * failure leaves a server alone for `retry_timeout` seconds (0: every call
 * tries it again); with `auto_eject`, `failure_limit` failures in a row take
 * it out of the placement for `dead_timeout` (or `retry_timeout`) seconds.
 * Either way it comes back only once a probe in the background (a connect
 * and a no-op) is answered, so no caller waits to find out.
 */
export class Health {
  readonly #names: readonly string[];
  readonly #entries: Entry[];
  readonly #behaviors: Resolved;
  readonly #probe: (index: number) => Promise<MemcachedError | undefined>;
  readonly #onPlacement: () => void;
  #closed = false;

  /**
   * Tracks the servers `names`. `probe` asks a server whether it answers
   * (`undefined`) or not (the error); `onPlacement` is told when a server
   * leaves or rejoins the placement.
   */
  constructor(
    names: readonly string[],
    behaviors: Resolved,
    probe: (index: number) => Promise<MemcachedError | undefined>,
    onPlacement: () => void,
  ) {
    this.#names = names;
    this.#behaviors = behaviors;
    this.#probe = probe;
    this.#onPlacement = onPlacement;
    this.#entries = names.map(() => ({ state: "up", failures: 0, downUntil: 0 }));
  }

  /** The state of server `index`. */
  state(index: number): ServerState {
    return this.#entries[index].state;
  }

  /** Whether server `index` is in the placement. */
  placed(index: number): boolean {
    return this.#entries[index].state !== "ejected";
  }

  /** Whether no server is up. */
  get noneUp(): boolean {
    return this.#entries.every((entry) => entry.state !== "up");
  }

  /** Failures in a row of server `index`, and until when it is left alone. */
  entry(index: number): Readonly<Entry> {
    return this.#entries[index];
  }

  /** A server's connection met a failure that counts against it. */
  failed(index: number, err: MemcachedError): void {
    if (this.#closed) return;
    const entry = this.#entries[index];
    entry.failures++;
    entry.lastError = err;
    const { autoEject, failureLimit, retryTimeout, deadTimeout } = this.#behaviors;
    const now = Date.now();
    if (autoEject && entry.failures >= failureLimit && this.#entries.length > 1) {
      const wasPlaced = entry.state !== "ejected";
      entry.state = "ejected";
      entry.downUntil = now + 1000 * (deadTimeout || retryTimeout);
      if (wasPlaced) this.#onPlacement();
    } else if (retryTimeout > 0 && entry.state !== "ejected") {
      entry.state = "down";
      entry.downUntil = now + 1000 * retryTimeout;
    } else if (entry.state === "up") {
      return;
    }
    this.#scheduleProbe(index);
  }

  /**
   * Probes server `index` now if its probe is overdue: where timers stop
   * with the request that set them (Workers), a caller's visit starts it.
   */
  visit(index: number): void {
    const entry = this.#entries[index];
    if (entry.timer === undefined || Date.now() < entry.downUntil) return;
    clearTimeout(entry.timer);
    this.#runProbe(index);
  }

  /** A server's connection received a reply: while it is up, its run of failures ends. */
  answered(index: number): void {
    const entry = this.#entries[index];
    if (entry.state === "up") entry.failures = 0;
  }

  /** What each server's health is now. */
  snapshot(): ServerHealth[] {
    return this.#entries.map((entry, index) => ({
      server: this.#names[index],
      state: entry.state,
      failures: entry.failures,
      ...(entry.state === "up" ? {} : { downUntil: entry.downUntil }),
      ...(entry.lastError ? { lastError: entry.lastError } : {}),
    }));
  }

  /** Stops every probe. */
  close(): void {
    this.#closed = true;
    for (const entry of this.#entries) clearTimeout(entry.timer);
  }

  #scheduleProbe(index: number): void {
    const entry = this.#entries[index];
    clearTimeout(entry.timer);
    const wait = Math.max(MIN_PROBE_INTERVAL, entry.downUntil - Date.now());
    entry.timer = setTimeout(() => this.#runProbe(index), wait);
    // A probe is the client's own business: it never keeps the process alive.
    unrefTimer(entry.timer);
  }

  async #runProbe(index: number): Promise<void> {
    const entry = this.#entries[index];
    entry.timer = undefined;
    if (this.#closed || entry.state === "up") return;
    const failures = entry.failures;
    const err = await this.#probe(index);
    if (this.#closed) return;
    if (err) {
      // Counted once: by the probe's connection when it saw the failure,
      // else (a probe that outlived its own deadline) here.
      if (entry.failures === failures) this.failed(index, err);
      return;
    }
    const wasEjected = entry.state === "ejected";
    entry.state = "up";
    entry.failures = 0;
    entry.downUntil = 0;
    if (wasEjected) this.#onPlacement();
  }
}
