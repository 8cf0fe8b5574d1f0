/**
 * Promises made without a closure per promise: hot paths make one per
 * request, and a closure to capture the resolving functions costs two more
 * objects each time (the function and its scope).
 *
 * @module
 */

/** The resolve function of the promise {@linkcode pending} made last. */
export let resolveLast: (value: unknown) => void;
/** The reject function of the promise {@linkcode pending} made last. */
export let rejectLast: (err: unknown) => void;

function capture(resolve: (value: never) => void, reject: (err: unknown) => void): void {
  // Whoever called pending<T>() knows T; the slot holds any promise's resolve.
  resolveLast = resolve as (value: unknown) => void;
  rejectLast = reject;
}

/**
 * A new promise; its resolve and reject functions are in
 * {@linkcode resolveLast} and {@linkcode rejectLast} until the next call.
 *
 * @example
 * ```ts
 * import { pending, resolveLast } from "./promises.ts";
 * const promise = pending<number>();
 * resolveLast(1);
 * await promise; // 1
 * ```
 */
export function pending<T>(): Promise<T> {
  return new Promise<T>(capture);
}
