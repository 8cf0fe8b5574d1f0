/**
 * The ceiling: a bare socket that writes pre-encoded commands and counts
 * the bytes of the replies, with no parsing and no values, in the same
 * pattern as the client scenarios. Prints `{ "ops": N, "rssMiB": M }`.
 *
 * Usage: raw.ts SERVER SCENARIO SECONDS
 */
import process from "node:process";
import { KEYS, measure, peakRssMiB, type Scenario, SMALL } from "./scenarios.ts";

const [server, scenario, seconds] = process.argv.slice(2) as [string, Scenario, string];
const [hostname, port] = server.split(":");
if (!["sequential", "inflight", "multi"].includes(scenario)) {
  console.log(JSON.stringify({ ops: null, rssMiB: null }));
  process.exit(0);
}
const conn = await Deno.connect({ hostname, port: Number(port) });
conn.setNoDelay(true);
const encode = (text: string) => new TextEncoder().encode(text);
const buf = new Uint8Array(1 << 20);

/** Reads until `count` replies ending in `end` (e.g. "END\r\n") have arrived. */
async function replies(count: number, end: number[]): Promise<void> {
  let seen = 0;
  let match = 0;
  while (seen < count) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("closed");
    for (let i = 0; i < n; i++) {
      match = buf[i] === end[match] ? match + 1 : buf[i] === end[0] ? 1 : 0;
      if (match === end.length) seen++, match = 0;
    }
  }
}

const END = [...encode("END\r\n")];
const STORED = [...encode("STORED\r\n")];
const rounds: Uint8Array[] = [];
for (let r = 0; r < 10; r++) {
  const slice = KEYS.slice(r * 100, r * 100 + 100);
  rounds.push(
    scenario === "inflight"
      ? encode(slice.map((key) => `get ${key}\r\n`).join(""))
      : encode(`get ${slice.join(" ")}\r\n`),
  );
}
let i = 0;
async function work(): Promise<number> {
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

const ops = await measure(Number(seconds), work);
conn.close();
console.log(JSON.stringify({ ops, rssMiB: peakRssMiB() }));
