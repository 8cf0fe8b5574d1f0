/**
 * The benchmark scenarios, shared by every runner: their names, what they
 * measure, and the data they read.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";

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
 * bare sockets' text mode (see {@linkcode TextWork}). Text mode covers
 * scenarios 3 to 5: in another, the runner prints that it measured nothing
 * and exits here.
 */
export function runnerArgs(
  argv: string[],
): { server: string; scenario: Scenario; seconds: number; text: boolean } {
  const [server, scenario, seconds, text] = argv;
  if (text === "text" && scenario !== "multi" && scenario !== "64k" && scenario !== "1m") {
    console.log(JSON.stringify({ ops: null, rssMiB: null }));
    process.exit(0);
  }
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

interface NodeBuffer {
  isAscii(bytes: Uint8Array): boolean;
  Buffer: { prototype: { latin1Slice(this: Uint8Array, from: number, to: number): string } };
}
const nodeBuffer = (globalThis as { process?: { getBuiltinModule(name: string): unknown } })
  .process?.getBuiltinModule("node:buffer") as NodeBuffer;

/**
 * For {@linkcode TextWork} in scenario 3: the values of a
 * multi-key get's reply (`reply`, the whole of it, hits only, in the order
 * asked) as a Map from each of `keys` to its value as a string. The least a
 * client returning such a Map does: find each item's line and its length,
 * check it names a key of the length asked, and read the value, here the
 * way this client reads ASCII values (one `isAscii` over the reply, then
 * `node:buffer`'s Latin-1 reader per value).
 */
function valuesOf(reply: Uint8Array, keys: string[]): Map<string, string> {
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

/**
 * The bare sockets' `text` mode: values are strings, as the clients' are.
 * In scenarios 4 and 5 each set encodes the value into the request (into
 * memory kept from one set to the next) and each get's value is decoded
 * into a string; in 3 each reply's values become a Map of strings (see
 * {@linkcode valuesOf}). The socket moves the bytes: it writes
 * {@linkcode encodedSet} and reads each get's reply whole into
 * {@linkcode reply}, then calls {@linkcode readValue} or
 * {@linkcode readValues}.
 */
export class TextWork {
  /** Where the socket reads each get's reply, whole. */
  readonly reply: Uint8Array;
  readonly #value: string;
  readonly #set: Uint8Array;
  readonly #at: number;
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder();
  /** What was read last, checked at the end so that reading it is not skipped. */
  #lastValue = "";
  #lastValues = new Map<string, string>();

  /** The text work of `scenario` (3, 4 or 5). */
  constructor(scenario: Scenario) {
    const big = bigRequests(scenario);
    const size = big?.size ?? 0;
    const head = new TextEncoder().encode(`set bench:big 0 0 ${size}\r\n`);
    this.#value = "x".repeat(size);
    this.#set = new Uint8Array(head.length + size + 2);
    this.#set.set(head);
    this.#set.set([13, 10], head.length + size);
    this.#at = head.length;
    this.reply = new Uint8Array(big?.value ?? 64 * 1024);
  }

  /** The set request of scenarios 4 and 5, the value encoded into it afresh. */
  encodedSet(): Uint8Array {
    this.#encoder.encodeInto(
      this.#value,
      this.#set.subarray(this.#at, this.#at + this.#value.length),
    );
    return this.#set;
  }

  /** Reads the value out of a get's reply, in {@linkcode reply}, as a string. */
  readValue(): void {
    const end = this.reply.length - "\r\nEND\r\n".length;
    this.#lastValue = this.#decoder.decode(this.reply.subarray(end - this.#value.length, end));
  }

  /** Reads the values of a multi-key get's reply of `length` bytes, in {@linkcode reply}. */
  readValues(length: number, keys: string[]): void {
    this.#lastValues = valuesOf(this.reply.subarray(0, length), keys);
  }

  /** Throws unless the last read found what was written. */
  check(scenario: Scenario): void {
    if (scenario === "multi" ? this.#lastValues.size !== 100 : this.#lastValue !== this.#value) {
      throw new Error("the values read back differ from those written");
    }
  }
}
