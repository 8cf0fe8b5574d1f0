/**
 * The ceiling on Bun (and Node): a bare `node:net` socket that writes
 * pre-encoded commands and counts the bytes of the replies, with no
 * parsing, in the same pattern as the client scenarios. Prints
 * `{ "ops": N, "rssMiB": M }`.
 *
 * Usage: bun raw_node.mjs SERVER SCENARIO SECONDS
 */
import { connect } from "node:net";
import process from "node:process";
import { readFileSync } from "node:fs";

const [server, scenario, seconds] = process.argv.slice(2);
const [host, port] = server.split(":");
const KEYS = Array.from({ length: 1000 }, (_, i) => `bench:${i}`);
const SMALL = "v".repeat(100);
const ONE_MIB = 1024 * 1024 - 1024;

const socket = connect(Number(port), host);
socket.setNoDelay(true);
await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));

/** Replies are counted by their exact length: each wait is for so many more bytes. */
let received = 0;
let waiting;
socket.on("data", (chunk) => {
  received += chunk.length;
  if (waiting && received >= waiting.until) {
    const { resolve } = waiting;
    waiting = undefined;
    resolve();
  }
});
let expected = 0;
function exchange(bytes, replyLength) {
  expected += replyLength;
  const until = expected;
  socket.write(bytes);
  return new Promise((resolve) => {
    if (received >= until) return resolve();
    waiting = { until, resolve };
  });
}

const encode = (text) => new TextEncoder().encode(text);
const size = scenario === "64k" ? 64 * 1024 : scenario === "1m" ? ONE_MIB : 0;
const work = [];
if (size) {
  const set = encode(`set bench:big 0 0 ${size}\r\n${"x".repeat(size)}\r\n`);
  const get = encode("get bench:big\r\n");
  const value = `VALUE bench:big 0 ${size}\r\n`.length + size + 7;
  work.push(async () => {
    await exchange(set, 8);
    await exchange(get, value);
    return 2;
  });
} else if (scenario === "sequential") {
  let i = 0;
  work.push(async () => {
    const key = KEYS[i++ % KEYS.length];
    await exchange(encode(`set ${key} 0 0 100\r\n${SMALL}\r\n`), 8);
    await exchange(encode(`get ${key}\r\n`), `VALUE ${key} 0 100\r\n`.length + 107);
    return 2;
  });
} else {
  // The small keys hold SMALL as text (flags 16), written before each run.
  const hit = (key) => `VALUE ${key} 16 100\r\n`.length + 102;
  const rounds = Array.from({ length: 10 }, (_, r) => {
    const slice = KEYS.slice(r * 100, r * 100 + 100);
    const length = slice.reduce((n, key) => n + hit(key), 0);
    return scenario === "inflight"
      ? { bytes: encode(slice.map((key) => `get ${key}\r\n`).join("")), length: length + 500 }
      : { bytes: encode(`get ${slice.join(" ")}\r\n`), length: length + 5 };
  });
  let i = 0;
  work.push(async () => {
    const round = rounds[i++ % rounds.length];
    await exchange(round.bytes, round.length);
    return 100;
  });
}

async function measure(secs, run) {
  const warmUntil = performance.now() + 200;
  while (performance.now() < warmUntil) await run();
  let count = 0;
  const started = performance.now();
  const until = started + secs * 1000;
  while (performance.now() < until) count += await run();
  return count / ((performance.now() - started) / 1000);
}

const ops = await measure(Number(seconds), work[0]);
socket.destroy();
const status = readFileSync("/proc/self/status", "utf8");
const rssMiB = Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)[1]) / 1024);
console.log(JSON.stringify({ ops, rssMiB }));
