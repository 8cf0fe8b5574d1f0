// Sums the JUnit reports of `deno test` and `bun test` into the closing line
// "N passed, N failed". A runner that exited non-zero without a reported
// failure, or a failed check, counts as one failure.
import { existsSync, readFileSync } from "node:fs";

const [denoXml, denoRc, bunXml, bunRc, checkRc] = process.argv.slice(2);

function suites(xml) {
  return [...xml.matchAll(/<testsuite\b([^>]*)>([\s\S]*?)<\/testsuite>/g)].map((
    [, attrs, body],
  ) => ({
    name: /name="([^"]*)"/.exec(attrs)?.[1] ?? "",
    cases: (body.match(/<testcase\b/g) ?? []).length,
    failures: (body.match(/<failure\b/g) ?? []).length,
  }));
}

function deno(xml) {
  // node:test cases run as steps of their describe block; Deno reports the
  // steps under its node:test shim and the blocks under each file.
  const all = suites(xml);
  const steps = all.filter((s) => s.name.startsWith("ext:"));
  const files = all.filter((s) => !s.name.startsWith("ext:"));
  const total = steps.reduce((n, s) => n + s.cases, 0);
  const failed = steps.reduce((n, s) => n + s.failures, 0);
  const blockFailures = files.reduce((n, s) => n + s.failures, 0);
  return { passed: total - failed, failed: failed || blockFailures };
}

function bun(xml) {
  const head = /<testsuites\b([^>]*)>/.exec(xml)?.[1] ?? "";
  const tests = Number(/tests="(\d+)"/.exec(head)?.[1] ?? 0);
  const failures = Number(/failures="(\d+)"/.exec(head)?.[1] ?? 0);
  return { passed: tests - failures, failed: failures };
}

let passed = 0;
let failed = 0;
for (
  const [file, rc, read, label] of [[denoXml, denoRc, deno, "deno"], [bunXml, bunRc, bun, "bun"]]
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
