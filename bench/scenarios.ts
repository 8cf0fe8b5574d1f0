/**
 * The benchmark scenarios, shared by every runner: their names, what they
 * measure, and the data they read.
 *
 * @module
 */

/** A scenario's name, as runners take it on their command line. */
export type Scenario = "sequential" | "inflight" | "multi" | "64k" | "1m";

/** Every scenario, in table order, with its column heading. */
export const SCENARIOS: [Scenario, string][] = [
  ["sequential", "1: set+get 100 B, one at a time (ops/s)"],
  ["inflight", "2: get 100 B, 100 in flight (ops/s)"],
  ["multi", "3: getMulti of 100 keys (keys/s)"],
  ["64k", "4: set+get 64 KiB (ops/s)"],
  ["1m", "5: set+get 1 MiB (ops/s)"],
];

/** The keys every runner reads: `bench:0` … `bench:999`, each holding 100 bytes. */
export const KEYS: string[] = Array.from({ length: 1000 }, (_, i) => `bench:${i}`);

/** The 100-byte value of the small keys. */
export const SMALL = "v".repeat(100);

/** The size of the 1 MiB value (a little under, so every peer's default limit takes it). */
export const ONE_MIB = 1024 * 1024 - 1024;
