/**
 * The ceiling on Bun: a bare `node:net` socket that writes pre-encoded
 * commands and counts the bytes of the replies, with no parsing, in the
 * same pattern as the client scenarios (raw.ts is Deno's). Each reply is
 * waited for by its exact length. Prints `{ "ops": N, "rssMiB": M }`.
 * With `text` (scenarios 3, 4 and 5 only), values are strings, encoded
 * and read as raw.ts does with `text`.
 *
 * Usage: bun raw_bun.ts SERVER SCENARIO SECONDS [text]
 */
import { connect } from "node:net";
import process from "node:process";
import {
  bigRequests,
  KEYS,
  measure,
  MULTI_ROUNDS,
  peakRssMiB,
  runnerArgs,
  SMALL,
  textRequests,
  valuesOf,
} from "./scenarios.ts";

const { server, scenario, seconds, text } = runnerArgs(process.argv.slice(2));
const big = bigRequests(scenario);
if (text && !big && scenario !== "multi") {
  // Only the large values and the multi-key gets are measured as text.
  console.log(JSON.stringify({ ops: null, rssMiB: null }));
  process.exit(0);
}
const [host, port] = server.split(":");
const socket = connect(Number(port), host);
socket.setNoDelay(true);
await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));

let received = 0;
let expected = 0;
let waiting: { until: number; resolve: () => void } | undefined;
/** For `text`: where the get's reply is copied, and how many bytes had arrived before it. */
let collect: { into: Uint8Array; from: number } | undefined;
socket.on("data", (chunk: Uint8Array) => {
  if (collect) collect.into.set(chunk, received - collect.from);
  received += chunk.length;
  if (waiting && received >= waiting.until) {
    const { resolve } = waiting;
    waiting = undefined;
    resolve();
  }
});

/** Writes `bytes` and waits for `replyLength` more bytes. */
function exchange(bytes: Uint8Array, replyLength: number): Promise<void> {
  expected += replyLength;
  const until = expected;
  socket.write(bytes);
  return new Promise((resolve) => {
    if (received >= until) return resolve();
    waiting = { until, resolve };
  });
}

const encode = (text: string) => new TextEncoder().encode(text);
// The small keys hold SMALL as text (flags 16), written before each run.
const hit = (key: string) => `VALUE ${key} 16 100\r\n`.length + SMALL.length + 2;
/** For `text`: the value, the set request it is encoded into, and where the get's reply is read. */
const strings = text ? textRequests(scenario) : undefined;
const decoder = new TextDecoder();
const encoder = new TextEncoder();
/** The last value read as text, checked at the end so that reading it is not skipped. */
let lastRead = "";
/** For `text` in scenario 3: where each reply is read, and the last one's values. */
const multiReply = new Uint8Array(64 * 1024);
let lastMap = new Map<string, string>();
// Scenario 3's rounds are MULTI_ROUNDS; scenario 2's, 100 gets of one key each.
const rounds = scenario === "multi" ? MULTI_ROUNDS : Array.from({ length: 10 }, (_, r) => {
  const slice = KEYS.slice(r * 100, r * 100 + 100);
  const length = slice.reduce((n, key) => n + hit(key), 0);
  return { bytes: encode(slice.map((key) => `get ${key}\r\n`).join("")), length: length + 500 };
});
let i = 0;

async function work(): Promise<number> {
  if (text && scenario === "multi") {
    const round = MULTI_ROUNDS[i++ % MULTI_ROUNDS.length];
    collect = { into: multiReply, from: received };
    await exchange(round.bytes, round.length);
    collect = undefined;
    lastMap = valuesOf(multiReply.subarray(0, round.length), round.keys);
    return 100;
  }
  if (strings) {
    const { value, set, at, reply } = strings;
    encoder.encodeInto(value, set.subarray(at, at + value.length));
    await exchange(set, big!.stored);
    collect = { into: reply, from: received };
    await exchange(big!.get, big!.value);
    collect = undefined;
    const end = reply.length - "\r\nEND\r\n".length;
    lastRead = decoder.decode(reply.subarray(end - value.length, end));
    return 2;
  }
  if (big) {
    await exchange(big.set, big.stored);
    await exchange(big.get, big.value);
    return 2;
  }
  if (scenario === "sequential") {
    const key = KEYS[i++ % KEYS.length];
    await exchange(encode(`set ${key} 0 0 100\r\n${SMALL}\r\n`), "STORED\r\n".length);
    await exchange(
      encode(`get ${key}\r\n`),
      `VALUE ${key} 0 100\r\n`.length + SMALL.length + "\r\nEND\r\n".length,
    );
    return 2;
  }
  const round = rounds[i++ % rounds.length];
  await exchange(round.bytes, round.length);
  return 100;
}

const ops = await measure(seconds, work);
socket.destroy();
if (strings && lastRead !== strings.value) throw new Error("the value read back differs");
if (text && scenario === "multi" && lastMap.size !== 100) throw new Error("values went missing");
console.log(JSON.stringify({ ops, rssMiB: peakRssMiB() }));
