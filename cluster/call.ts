/**
 * What a call may say about itself, and what is reported of it: the
 * options every operation takes, `onCommand` events, retry policies, and
 * the checks of a call's timeout and signal. The router owns them; the
 * client re-exports the types.
 *
 * @module
 */
import { errorFor, InvalidArguments, type MemcachedError } from "../errors.ts";
import { Status } from "../protocol/status.ts";

/**
 * What the `onCommand` option reports for every request a call sends, for
 * logs, metrics or tracing (e.g. OpenTelemetry spans).
 */
export interface CommandEvent {
  /** The client operation, e.g. `"get"` or `"setMulti"`. */
  operation: string;
  /** The key, for single-key requests. */
  key?: string;
  /** The server the request went to: `host:port` or the socket path. */
  server: string;
  /** Milliseconds from sending to the outcome. */
  duration: number;
  /** The error, when the request failed. */
  error?: Error;
  /**
   * For a read that succeeded: whether it found a value (for a multi-key
   * request, whether it found any). Absent for other operations.
   */
  hit?: boolean;
  /**
   * For a read that succeeded: how many of the keys it asked for it found
   * (a request can carry many: a `getMulti`, or the gets of one tick), and
   * how many it did not. A hit ratio is `hits / (hits + misses)` summed
   * over events.
   */
  hits?: number;
  /** For a read that succeeded: how many of its keys were missing. */
  misses?: number;
}

/** Options every operation takes. */
export interface CallOptions {
  /** Abandons the call when aborted: it rejects with `signal.reason`, as `fetch` does. */
  signal?: AbortSignal;
  /** Milliseconds this call may take; overrides the client's `timeout`. */
  timeout?: number;
}

/**
 * How the `retry` option sends an idempotent operation again (get, gets,
 * getMulti, getAndTouch, getWithMeta, touch, set, delete) after a failure
 * that `isRetriable` accepts. The waits grow exponentially with
 * full jitter: before attempt n+1, a random time up to
 * `min(maxBackoff, backoff * 2^(n-1))` ms. The call's `timeout` bounds every
 * attempt and wait together.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. Default 3. */
  attempts?: number;
  /** Milliseconds of the first wait's bound. Default 50. */
  backoff?: number;
  /** The largest bound of a wait, in milliseconds. Default 1000. */
  maxBackoff?: number;
}

/** A positive number of milliseconds (Infinity allowed), or the default. */
export function millis(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number of milliseconds, not ${typeof value}`);
  }
  if (!(value > 0)) {
    throw new InvalidArguments(`${name} must be a positive number of milliseconds, not ${value}`);
  }
  return value;
}

/** Checks the `signal` of a call's options. */
export function signalOf(options: CallOptions | undefined): AbortSignal | undefined {
  const signal = options?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError("signal must be an AbortSignal");
  }
  return signal;
}

/** Reads, whose `onCommand` events say whether they found a value. */
const READS = new Set(["get", "gets", "getMulti", "getAndTouch", "getWithMeta"]);

/**
 * Gives `event` to an `onCommand` observer, when there is one. An observer
 * that throws changes nothing for the call it watches: its error goes to
 * `console.error`.
 */
export function tell(
  observer: ((event: CommandEvent) => void) | undefined,
  event: CommandEvent,
): void {
  try {
    observer?.(event);
  } catch (err) {
    console.error("onCommand observer threw:", err);
  }
}

/**
 * Reports a request to an `onCommand` observer once it settles (see
 * {@linkcode tell}).
 */
export async function observed<R>(
  observer: (event: CommandEvent) => void,
  request: Promise<R>,
  operation: string,
  key: string | undefined,
  server: string,
  asked = 1,
): Promise<R> {
  const started = performance.now();
  const report = (error?: MemcachedError, hits?: number) => {
    const duration = performance.now() - started;
    tell(
      observer,
      hits === undefined ? { operation, key, server, duration, error } : {
        operation,
        key,
        server,
        duration,
        hit: hits > 0,
        hits,
        misses: asked - hits,
      },
    );
  };
  try {
    const result = await request;
    // A read's result is its item (or undefined), or a multi-key get's items.
    report(
      undefined,
      READS.has(operation)
        ? (Array.isArray(result) ? result.length : result === undefined ? 0 : 1)
        : undefined,
    );
    return result;
  } catch (err) {
    report(err as MemcachedError);
    throw err;
  }
}

/**
 * `promise`, or a Timeout after `ms`, or the signal's reason when it aborts
 * first: a wait shared by several calls bounded by each one's own deadline.
 */
export function within<T>(
  promise: Promise<T>,
  ms: number,
  signal: AbortSignal | undefined,
  operation: string,
  key: string | undefined,
): Promise<T> {
  if (!Number.isFinite(ms) && !signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", abort);
    };
    const abort = () => {
      stop();
      reject(signal!.reason);
    };
    const timer = Number.isFinite(ms)
      ? setTimeout(() => {
        stop();
        reject(errorFor(Status.TIMEOUT, `no answer within ${ms} ms`, { operation, key }));
      }, Math.max(0, ms))
      : undefined;
    if (signal?.aborted) return abort();
    signal?.addEventListener("abort", abort, { once: true });
    promise.then(
      (value) => {
        stop();
        resolve(value);
      },
      (err) => {
        stop();
        reject(err);
      },
    );
  });
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", abort, { once: true });
  });
}
