// Sums the JUnit reports of `deno test` and `bun test` and the TAP report of
// `node --test` into the closing line "N passed, N failed". A runner that
// exited non-zero without a reported failure, or a failed check, counts as
// one failure.
import { existsSync, readFileSync } from "node:fs";

const [denoXml, denoRc, bunXml, bunRc, nodeTap, nodeRc, checkRc] = process.argv.slice(2);

function cases(xml) {
  return [...xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)].map((
    [, attrs, , body = ""],
  ) => ({
    name: (/name="([^"]*)"/.exec(attrs)?.[1] ?? "").replaceAll("&gt;", ">"),
    failed: /<failure\b/.test(body),
  }));
}

function deno(xml) {
  // Deno reports each node:test describe block as a test and its tests as
  // steps named "block > test"; a block is not counted, its steps are.
  const all = cases(xml);
  const leaves = all.filter((c) => !all.some((other) => other.name.startsWith(`${c.name} > `)));
  const failed = leaves.filter((c) => c.failed).length;
  const blockFailures = all.filter((c) => c.failed).length;
  return { passed: leaves.length - failed, failed: failed || blockFailures };
}

function node(tap) {
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, "m").exec(tap)?.[1] ?? 0);
  return { passed: count("pass"), failed: count("fail") + count("cancelled") };
}

function bun(xml) {
  const all = cases(xml);
  const failed = all.filter((c) => c.failed).length;
  return { passed: all.length - failed, failed };
}

let passed = 0;
let failed = 0;
for (
  const [file, rc, read, label] of [
    [denoXml, denoRc, deno, "deno"],
    [bunXml, bunRc, bun, "bun"],
    [nodeTap, nodeRc, node, "node"],
  ]
) {
  const counts = existsSync(file) ? read(readFileSync(file, "utf8")) : { passed: 0, failed: 0 };
  if (counts.failed === 0 && rc !== "0") counts.failed = 1;
  console.log(`${label}: ${counts.passed} passed, ${counts.failed} failed`);
  passed += counts.passed;
  failed += counts.failed;
}
if (checkRc !== "0") {
  console.log("deno task check failed");
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
