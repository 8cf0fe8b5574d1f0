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
  TextWork,
} from "./scenarios.ts";

const { server, scenario, seconds, text } = runnerArgs(process.argv.slice(2));
const big = bigRequests(scenario);
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
const textWork = text ? new TextWork(scenario) : undefined;
// Scenario 3's rounds are MULTI_ROUNDS; scenario 2's, 100 gets of one key each.
const rounds = scenario === "multi" ? MULTI_ROUNDS : Array.from({ length: 10 }, (_, r) => {
  const slice = KEYS.slice(r * 100, r * 100 + 100);
  const length = slice.reduce((n, key) => n + hit(key), 0);
  return { bytes: encode(slice.map((key) => `get ${key}\r\n`).join("")), length: length + 500 };
});
let i = 0;

async function work(): Promise<number> {
  if (textWork && scenario === "multi") {
    const round = MULTI_ROUNDS[i++ % MULTI_ROUNDS.length];
    collect = { into: textWork.reply, from: received };
    await exchange(round.bytes, round.length);
    collect = undefined;
    textWork.readValues(round.length, round.keys);
    return 100;
  }
  if (textWork) {
    await exchange(textWork.encodedSet(), big!.stored);
    collect = { into: textWork.reply, from: received };
    await exchange(big!.get, big!.value);
    collect = undefined;
    textWork.readValue();
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
textWork?.check(scenario);
console.log(JSON.stringify({ ops, rssMiB: peakRssMiB() }));
