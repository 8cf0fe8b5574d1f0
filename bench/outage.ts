/**
 * `deno task outage` (or `bun bench/outage.ts`): what callers see when a
 * server has a bad day, measured against real memcached processes on
 * loopback. Prints one line per case:
 *
 * - blackhole: 3 servers, one of them a listener whose connects hang,
 *   `{ ketama, auto_eject, failure_limit: 2, retry_timeout: 1 }`,
 *   connectTimeout 500, one caller setting 300 keys in a loop for 8 s: how
 *   many calls for the blackholed server's keys waited for the connect
 *   timeout, and when its keys were first served elsewhere.
 * - hung: 3 servers, 50 callers getting random keys (timeout 500,
 *   retry_timeout 1); one server is SIGSTOPped for 6 s: the other servers'
 *   gets per second during the hang, as a share of the 4 s before it.
 * - garbled: one injected reply line on a single-server client: how long
 *   until a get succeeds again, and how many NoServers were seen.
 */
import process from "node:process";
import { Client, NoServers } from "../mod.ts";
import { startBlackhole } from "../tests/blackhole.ts";
import { startMemcached } from "../tests/memcached.ts";
import { startRelay } from "../tests/relay.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function blackhole(): Promise<string> {
  const live = await Promise.all([startMemcached(), startMemcached()]);
  const hole = await startBlackhole();
  const client = new Client([live[0].server, live[1].server, hole.server], {
    connectTimeout: 500,
    behaviors: { ketama: true, auto_eject: true, failure_limit: 2, retry_timeout: 1 },
  });
  const keys = Array.from({ length: 300 }, (_, i) => `key:${i}`);
  const onHole = new Set(keys.filter((key) => client.serverFor(key) === hole.server));
  const started = Date.now();
  let calls = 0;
  let waited = 0;
  let rerouted: number | undefined;
  try {
    while (Date.now() - started < 8000) {
      for (const key of keys) {
        const homed = onHole.has(key);
        const begun = Date.now();
        const ok = await client.set(key, "v").then(() => true, () => false);
        if (!homed) continue;
        calls++;
        if (Date.now() - begun >= 500) waited++;
        if (ok && rerouted === undefined) rerouted = Date.now() - started;
      }
    }
  } finally {
    client.close();
    await hole.close();
    await Promise.all(live.map((s) => s.stop()));
  }
  return `blackhole: ${calls} calls for its ${onHole.size} keys in 8 s; ${waited} waited for ` +
    `the connect timeout; its keys were served elsewhere from ${rerouted} ms on`;
}

async function hung(): Promise<string> {
  const servers = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
  const client = new Client(servers.map((s) => s.server), {
    timeout: 500,
    behaviors: { ketama: true, retry_timeout: 1 },
  });
  const keys = Array.from({ length: 1000 }, (_, i) => `key:${i}`);
  await client.setMulti(keys.map((key) => [key, key] as const));
  const hungServer = servers[2];
  const others = new Set(keys.filter((key) => client.serverFor(key) !== hungServer.server));
  let served = 0;
  let running = true;
  const worker = async () => {
    while (running) {
      const key = keys[Math.floor(Math.random() * keys.length)];
      const ok = await client.get(key).then(() => true, () => false);
      if (ok && others.has(key)) served++;
    }
  };
  const workers = Array.from({ length: 50 }, worker);
  // Half-second slices, compared by their medians: on a small machine the
  // rate of one slice wanders by a third either way.
  const slices = async (count: number) => {
    const rates: number[] = [];
    for (let i = 0; i < count; i++) {
      served = 0;
      await sleep(500);
      rates.push(served * 2);
    }
    return median(rates);
  };
  try {
    await sleep(1000);
    const before = await slices(8);
    await hungServer.pause();
    const during = await slices(12);
    hungServer.resume();
    return `hung: the other servers' gets ${before}/s before, ${during}/s during a 6 s ` +
      `SIGSTOP (${Math.round(100 * during / before)} %; medians of half-second slices)`;
  } finally {
    running = false;
    hungServer.resume();
    await Promise.all(workers);
    client.close();
    await Promise.all(servers.map((s) => s.stop()));
  }
}

async function garbled(protocol: "text" | "meta", text: string): Promise<string> {
  const server = await startMemcached();
  const relay = await startRelay(server.server);
  const client = new Client(relay.server, { protocol });
  try {
    await client.set("k", "v");
    relay.set("down", { kind: "inject", text });
    const injected = Date.now();
    let failed = 0;
    let noServers = 0;
    let recovered: number | undefined;
    for (let i = 0; i < 1000 && recovered === undefined; i++) {
      try {
        await client.get("k");
        recovered = Date.now() - injected;
      } catch (err) {
        failed++;
        if (err instanceof NoServers) noServers++;
      }
    }
    let laterNoServers = 0;
    for (let i = 0; i < 1000; i++) {
      await client.get("k").catch((err) => err instanceof NoServers && laterNoServers++);
    }
    return `garbled ${JSON.stringify(text.trim())} over ${protocol}: ${failed} call(s) failed, ` +
      `gets succeeded again after ${recovered} ms, ${noServers + laterNoServers} NoServers ` +
      `in the next 1,000 gets`;
  } finally {
    client.close();
    await relay.close();
    await server.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const only = process.argv.slice(2);
const cases: [string, () => Promise<string>][] = [
  ["blackhole", blackhole],
  ["hung", hung],
  [
    "garbled",
    async () => `${await garbled("text", "STORED\r\n")}\n${await garbled("meta", "EN\r\n")}`,
  ],
];
for (const [name, run] of cases) {
  if (only.length === 0 || only.includes(name)) console.log(await run());
}
