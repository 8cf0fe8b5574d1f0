// Sums the JUnit reports of `deno test` and `bun test` and the TAP report of
// `node --test` into the closing line "N passed, N failed". A runner that
// exited non-zero without a reported failure, or a failed check, counts as
// one failure. Each failed test is named with its message, so that a red run
// says what went wrong without its reports.
import { existsSync, readFileSync } from "node:fs";

const [denoXml, denoRc, bunXml, bunRc, nodeTap, nodeRc, checkRc] = process.argv.slice(2);

const entities = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'", "#10": "\n" };
const unescape = (text) =>
  text.replace(/&(lt|gt|amp|quot|apos|#10);/g, (_, name) => entities[name]);

function cases(xml) {
  return [...xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)].map((
    [, attrs, , body = ""],
  ) => {
    const failure = /<failure\b[^>]*?message="([^"]*)"/.exec(body);
    return {
      name: unescape(/name="([^"]*)"/.exec(attrs)?.[1] ?? ""),
      suite: unescape(/classname="([^"]*)"/.exec(attrs)?.[1] ?? ""),
      failed: failure !== null || /<failure\b/.test(body),
      message: failure ? unescape(failure[1]) : "",
    };
  });
}

function deno(xml) {
  // Deno reports each node:test describe block as a test and its tests as
  // steps named "block > test"; a block is not counted, its steps are.
  const all = cases(xml);
  const leaves = all.filter((c) => !all.some((other) => other.name.startsWith(`${c.name} > `)));
  const failures = leaves.filter((c) => c.failed);
  const blockFailures = all.filter((c) => c.failed);
  return {
    passed: leaves.length - failures.length,
    failed: failures.length || blockFailures.length,
    failures: (failures.length ? failures : blockFailures).map((c) => `${c.name}: ${c.message}`),
  };
}

function node(tap) {
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, "m").exec(tap)?.[1] ?? 0);
  // A failed test is a "not ok" line at any depth, followed by its YAML block.
  const failures = [...tap.matchAll(/^\s*not ok \d+ - (.*)\n(?:\s*---\n([\s\S]*?)\n\s*\.\.\.)?/gm)]
    .filter(([, , yaml = ""]) => !/failureType: 'subtestsFailed'/.test(yaml))
    .map(([, name, yaml = ""]) => `${name}: ${/^\s*error: (.*)$/m.exec(yaml)?.[1] ?? ""}`);
  return { passed: count("pass"), failed: count("fail") + count("cancelled"), failures };
}

function bun(xml) {
  const all = cases(xml);
  const failures = all.filter((c) => c.failed);
  return {
    passed: all.length - failures.length,
    failed: failures.length,
    failures: failures.map((c) => `${c.suite} > ${c.name}: ${c.message}`),
  };
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
  const counts = existsSync(file)
    ? read(readFileSync(file, "utf8"))
    : { passed: 0, failed: 0, failures: [] };
  if (counts.failed === 0 && rc !== "0") counts.failed = 1;
  for (const failure of counts.failures) {
    console.log(`${label} failed: ${failure.split("\n").slice(0, 4).join("\n  ")}`);
  }
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
