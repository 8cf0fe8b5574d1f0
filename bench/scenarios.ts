/**
 * The benchmark scenarios, shared by every runner: their names, what they
 * measure, and the data they read.
 *
 * @module
 */
import { readFileSync } from "node:fs";

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

/**
 * A runner's command line: `SERVER SCENARIO SECONDS`, then `text` for the
 * bare sockets' text mode (see {@linkcode textRequests}).
 */
export function runnerArgs(
  argv: string[],
): { server: string; scenario: Scenario; seconds: number; text: boolean } {
  const [server, scenario, seconds, text] = argv;
  return {
    server,
    scenario: scenario as Scenario,
    seconds: Number(seconds),
    text: text === "text",
  };
}

/** The keys every runner reads: `bench:0` … `bench:999`, each holding 100 bytes. */
export const KEYS: string[] = Array.from({ length: 1000 }, (_, i) => `bench:${i}`);

/** The 100-byte value of the small keys. */
export const SMALL = "v".repeat(100);

/**
 * Scenario 3's ten multi-key gets (keys 0–99, 100–199, …) in the text
 * protocol: the request, its keys, and the exact length of its reply, all
 * of them hits (each small key holds SMALL as text, flags 16).
 */
export const MULTI_ROUNDS: { bytes: Uint8Array; keys: string[]; length: number }[] = Array.from(
  { length: 10 },
  (_, r) => {
    const keys = KEYS.slice(r * 100, r * 100 + 100);
    const length = keys.reduce((n, key) => n + `VALUE ${key} 16 100\r\n`.length + 102, 0) + 5;
    return { bytes: new TextEncoder().encode(`get ${keys.join(" ")}\r\n`), keys, length };
  },
);

/** The size of the 1 MiB value (a little under, so every peer's default limit takes it). */
export const ONE_MIB = 1024 * 1024 - 1024;

/**
 * Runs `work` (which returns how many operations it did) for 200 ms to warm
 * up, then for `seconds`; returns operations per second.
 */
export async function measure(seconds: number, work: () => Promise<number>): Promise<number> {
  const warmUntil = performance.now() + 200;
  while (performance.now() < warmUntil) await work();
  let count = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  while (performance.now() < until) count += await work();
  return count / ((performance.now() - started) / 1000);
}

/** This process's peak RSS in MiB, from /proc. */
export function peakRssMiB(): number {
  const status = readFileSync("/proc/self/status", "utf8");
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024);
}

/**
 * For the bare sockets of scenarios 4 and 5: the set and the get of the
 * large value, pre-encoded, and the exact length of each reply, so that
 * they are read and discarded without being searched, and the value's size.
 * `undefined` for the other scenarios.
 */
export function bigRequests(
  scenario: Scenario,
): { set: Uint8Array; stored: number; get: Uint8Array; value: number; size: number } | undefined {
  const size = scenario === "64k" ? 64 * 1024 : scenario === "1m" ? ONE_MIB : 0;
  if (size === 0) return undefined;
  const encode = (text: string) => new TextEncoder().encode(text);
  const key = "bench:big";
  return {
    set: encode(`set ${key} 0 0 ${size}\r\n${"x".repeat(size)}\r\n`),
    stored: "STORED\r\n".length,
    get: encode(`get ${key}\r\n`),
    value: `VALUE ${key} 0 ${size}\r\n`.length + size + "\r\nEND\r\n".length,
    size,
  };
}

/**
 * For the bare sockets' `text` mode in scenarios 4 and 5: the value as a
 * string, the set request it is encoded into each time (`at` is where the
 * value goes), and memory for the get's reply, all kept from one exchange
 * to the next. `undefined` for the other scenarios.
 */
export function textRequests(
  scenario: Scenario,
): { value: string; set: Uint8Array; at: number; reply: Uint8Array } | undefined {
  const big = bigRequests(scenario);
  if (!big) return undefined;
  const encode = (text: string) => new TextEncoder().encode(text);
  const head = encode(`set bench:big 0 0 ${big.size}\r\n`);
  const set = new Uint8Array(head.length + big.size + 2);
  set.set(head);
  set.set(encode("\r\n"), head.length + big.size);
  return { value: "x".repeat(big.size), set, at: head.length, reply: new Uint8Array(big.value) };
}

interface NodeBuffer {
  isAscii(bytes: Uint8Array): boolean;
  Buffer: { prototype: { latin1Slice(this: Uint8Array, from: number, to: number): string } };
}
const nodeBuffer = (globalThis as { process?: { getBuiltinModule(name: string): unknown } })
  .process?.getBuiltinModule("node:buffer") as NodeBuffer;

/**
 * For the bare sockets' `text` mode in scenario 3: the values of a
 * multi-key get's reply (`reply`, the whole of it, hits only, in the order
 * asked) as a Map from each of `keys` to its value as a string. The least a
 * client returning such a Map does: find each item's line and its length,
 * check it names a key of the length asked, and read the value, here the
 * way this client reads ASCII values (one `isAscii` over the reply, then
 * `node:buffer`'s Latin-1 reader per value).
 */
export function valuesOf(reply: Uint8Array, keys: string[]): Map<string, string> {
  if (!nodeBuffer.isAscii(reply)) throw new Error("the bench's values are ASCII");
  const slice = nodeBuffer.Buffer.prototype.latin1Slice;
  const values = new Map<string, string>();
  let at = 0;
  for (const key of keys) {
    const cr = reply.indexOf(13, at);
    // "VALUE " key " " flags " " bytes
    const lengthAt = reply.lastIndexOf(32, cr) + 1;
    if (reply[at + 6 + key.length] !== 32) throw new Error("an item for another key");
    let size = 0;
    for (let i = lengthAt; i < cr; i++) size = size * 10 + reply[i] - 48;
    values.set(key, slice.call(reply, cr + 2, cr + 2 + size));
    at = cr + 2 + size + 2;
  }
  return values;
}
