/**
 * How the outcomes of a request to many keys or servers become one result,
 * or one error that keeps every result: NotFound, the shared error, or
 * SomeErrors.
 *
 * @module
 */
import { type MemcachedError, NotFound, SomeErrors } from "../errors.ts";

/** Puts each outcome in `results` or, when it failed, in `errors`, under its name in `names`. */
export function sortOut<R>(
  outcomes: PromiseSettledResult<R>[],
  names: readonly string[],
  results: Map<string, R>,
  errors: Map<string, MemcachedError>,
): void {
  for (let i = 0; i < outcomes.length; i++) {
    const outcome = outcomes[i];
    if (outcome.status === "fulfilled") results.set(names[i], outcome.value);
    else errors.set(names[i], outcome.reason);
  }
}

/**
 * The results of a multi-key call, or the error that reports its failures:
 * NotFound when every failure is a miss, the error itself when every key
 * failed the same way, SomeErrors otherwise.
 */
export function settle<R>(
  results: Map<string, R>,
  errors: Map<string, MemcachedError>,
  operation: string,
  total: number,
  noun = "keys",
): Map<string, R> {
  if (errors.size === 0) return results;
  const failures = [...errors.values()];
  if (failures.every((err) => err instanceof NotFound)) {
    const missing = [...errors.keys()];
    const err = new NotFound(`${missing.length} keys not found: ${missing.join(", ")}`, {
      operation,
    });
    err.keys = missing;
    err.results = results;
    throw err;
  }
  const first = failures[0];
  if (errors.size === total && failures.every((err) => err.constructor === first.constructor)) {
    throw first;
  }
  const err = new SomeErrors(`${errors.size} of ${total} ${noun} failed: ${summary(errors)}`, {
    operation,
  });
  err.results = results;
  err.errors = errors;
  throw err;
}

/** How many keys failed with each error class, e.g. "2 ServerDown, 1 Timeout". */
function summary(errors: Map<string, MemcachedError>): string {
  const names = new Map<string, number>();
  for (const err of errors.values()) names.set(err.name, (names.get(err.name) ?? 0) + 1);
  return [...names].map(([name, n]) => `${n} ${name}`).join(", ");
}
