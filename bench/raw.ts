/**
 * The ceiling on Deno: a bare `Deno.connect` socket that writes
 * pre-encoded commands and counts the bytes of the replies, with no
 * parsing and no values, in the same pattern as the client scenarios
 * (raw_bun.ts is Bun's). Prints `{ "ops": N, "rssMiB": M }`.
 *
 * With `text` (scenarios 3, 4 and 5 only), values are strings, as the
 * clients' are (see `TextWork`): the least a client that takes and returns
 * strings must do, so the ceiling for such a client.
 *
 * Usage: raw.ts SERVER SCENARIO SECONDS [text]
 */
import process from "node:process";
import {
  bigRequests,
  KEYS,
  measure,
  MULTI_ROUNDS,
  peakRssMiB,
  runnerArgs,
  SMALL,
  TextWork,
} from "./scenarios.ts";

const { server, scenario, seconds, text } = runnerArgs(process.argv.slice(2));
const big = bigRequests(scenario);
const [hostname, port] = server.split(":");
const conn = await Deno.connect({ hostname, port: Number(port) });
conn.setNoDelay(true);
const encode = (text: string) => new TextEncoder().encode(text);
const buf = new Uint8Array(1 << 20);

/**
 * Reads until `count` replies ending in `end` (e.g. "END\r\n") have arrived.
 * The marker is found with the runtime's native search, so that the ceiling
 * is not set by a byte-at-a-time loop here; it cannot occur inside the
 * bench's keys and values, but may be split between two reads.
 */
async function replies(count: number, end: Uint8Array): Promise<void> {
  let seen = 0;
  let carry = 0;
  while (seen < count) {
    const n = await conn.read(buf.subarray(carry));
    if (n === null) throw new Error("closed");
    const filled = carry + n;
    let at = 0;
    for (;;) {
      const found = indexOf(buf, end, at, filled);
      if (found < 0) break;
      seen++;
      at = found + end.length;
    }
    // Keep the last few bytes, which may hold the start of a marker.
    carry = Math.min(end.length - 1, filled - at);
    buf.copyWithin(0, filled - carry, filled);
  }
}

/** Where `needle` starts in `hay[from, to)`, or -1. */
function indexOf(hay: Uint8Array, needle: Uint8Array, from: number, to: number): number {
  const window = hay.subarray(0, to);
  for (let at = window.indexOf(needle[0], from); at >= 0 && at + needle.length <= to;) {
    let i = 1;
    while (i < needle.length && hay[at + i] === needle[i]) i++;
    if (i === needle.length) return at;
    at = window.indexOf(needle[0], at + 1);
  }
  return -1;
}

const END = encode("END\r\n");
const STORED = encode("STORED\r\n");
const rounds: Uint8Array[] = [];
for (let r = 0; r < 10; r++) {
  const slice = KEYS.slice(r * 100, r * 100 + 100);
  rounds.push(
    scenario === "inflight"
      ? encode(slice.map((key) => `get ${key}\r\n`).join(""))
      : encode(`get ${slice.join(" ")}\r\n`),
  );
}
/** Reads exactly `count` bytes, discarding them. */
async function discard(count: number): Promise<void> {
  for (let left = count; left > 0;) {
    const n = await conn.read(buf.subarray(0, Math.min(buf.length, left)));
    if (n === null) throw new Error("closed");
    left -= n;
  }
}

/** Reads exactly `count` bytes into `into`. */
async function readInto(into: Uint8Array, count: number): Promise<void> {
  for (let at = 0; at < count;) {
    const n = await conn.read(into.subarray(at, count));
    if (n === null) throw new Error("closed");
    at += n;
  }
}

const textWork = text ? new TextWork(scenario) : undefined;

let i = 0;
async function work(): Promise<number> {
  if (textWork && scenario === "multi") {
    const round = MULTI_ROUNDS[i++ % MULTI_ROUNDS.length];
    await conn.write(round.bytes);
    await readInto(textWork.reply, round.length);
    textWork.readValues(round.length, round.keys);
    return 100;
  }
  if (textWork) {
    await conn.write(textWork.encodedSet());
    await discard(big!.stored);
    await conn.write(big!.get);
    await readInto(textWork.reply, textWork.reply.length);
    textWork.readValue();
    return 2;
  }
  if (big) {
    await conn.write(big.set);
    await discard(big.stored);
    await conn.write(big.get);
    await discard(big.value);
    return 2;
  }
  if (scenario === "sequential") {
    const key = KEYS[i++ % KEYS.length];
    await conn.write(encode(`set ${key} 0 0 100\r\n${SMALL}\r\n`));
    await replies(1, STORED);
    await conn.write(encode(`get ${key}\r\n`));
    await replies(1, END);
    return 2;
  }
  await conn.write(rounds[i++ % rounds.length]);
  await replies(scenario === "inflight" ? 100 : 1, END);
  return 100;
}

const ops = await measure(seconds, work);
conn.close();
textWork?.check(scenario);
console.log(JSON.stringify({ ops, rssMiB: peakRssMiB() }));
