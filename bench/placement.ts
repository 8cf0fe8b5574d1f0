/**
 * What a capacity planner needs to know about placement, measured: the
 * share of 100,000 keys that move to another server when one is added to
 * ten (10 → 11) or removed (10 → 9), for each distribution, and, with 1,000
 * servers, what placing one key costs and how much memory the ring takes.
 * Nothing is sent: placement is computed, as `serverFor` computes it.
 *
 * Run: deno task placement
 */
import { type Behaviors, Client, parseServer } from "../mod.ts";
import { hashes } from "../cluster/hash.ts";
import { type Distribution, Ring } from "../cluster/ring.ts";

const KEYS = Array.from({ length: 100_000 }, (_, i) => `user:${i}:profile`);
const servers = (n: number) =>
  Array.from({ length: n }, (_, i) => `10.0.${i >> 8}.${i & 255}:11211`);

const DISTRIBUTIONS: [string, Behaviors][] = [
  ["modula", {}],
  ["ketama", { ketama: true }],
  ["ketama_weighted", { ketama_weighted: true }],
  ["consistent", { distribution: "consistent" }],
];

function placed(list: string[], behaviors: Behaviors): string[] {
  const client = new Client(list, { behaviors });
  const where = KEYS.map((key) => client.serverFor(key));
  client.close();
  return where;
}

function moved(a: string[], b: string[]): string {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return `${(100 * n / a.length).toFixed(1)} %`;
}

const DISTRIBUTION_OF: Record<string, Distribution> = {
  modula: "modula",
  ketama: "consistent ketama",
  ketama_weighted: "consistent weighted",
  consistent: "consistent",
};

/** The bytes of the continuum the client builds for `list` (8 per point). */
function ringBytes(list: string[], distribution: Distribution): number {
  const ring = list.map(parseServer).map((s) => ({
    host: s.kind === "tcp" ? s.host : s.path,
    port: s.kind === "tcp" ? s.port : 0,
    weight: s.weight,
  }));
  return new Ring(ring, ring.map((_, i) => i), distribution, hashes.md5).bytes;
}

console.log("With 1,000 servers:");
console.log("| distribution | build the client | place one key | ring |");
for (const [name, behaviors] of DISTRIBUTIONS) {
  const built = performance.now();
  const client = new Client(servers(1000), { behaviors });
  const buildMs = performance.now() - built;
  const ring = ringBytes(servers(1000), DISTRIBUTION_OF[name]);
  let sink = 0;
  const start = performance.now();
  for (let round = 0; round < 5; round++) {
    for (const key of KEYS) sink += client.serverFor(key).length;
  }
  const perKey = (performance.now() - start) * 1e6 / (5 * KEYS.length);
  client.close();
  // Using what was placed keeps the loop from being optimised away.
  if (sink === 0) throw new Error("no key was placed");
  console.log(
    `| ${name} | ${buildMs.toFixed(1)} ms | ${perKey.toFixed(0)} ns | ${
      (ring / 2 ** 10).toFixed(0)
    } KiB |`,
  );
}

const rows = [["distribution", "10 → 11 servers", "10 → 9 servers"]];
for (const [name, behaviors] of DISTRIBUTIONS) {
  const ten = placed(servers(10), behaviors);
  rows.push([
    name,
    moved(ten, placed(servers(11), behaviors)),
    moved(ten, placed(servers(10).filter((_, i) => i !== 4), behaviors)),
  ]);
}
console.log(`\nKeys that move (of ${KEYS.length.toLocaleString("en")}):`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
