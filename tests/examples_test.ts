/**
 * examples/error_handling.ts, pylibmc's error-handling guide written with
 * this client, run against three servers: one live, one killed, one
 * blackholed (its connects hang).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { logger, runAll } from "../examples/error_handling.ts";
import { type Blackhole, startBlackhole } from "./blackhole.ts";
import { type Memcached, startMemcached } from "./memcached.ts";
import { suite } from "./tools.ts";

suite("the error-handling examples", ["memcached", "python3"], () => {
  let live: Memcached;
  let killed: Memcached;
  let hole: Blackhole;
  const logged: string[] = [];

  before(async () => {
    [live, killed] = await Promise.all([startMemcached(), startMemcached()]);
    await killed.stop();
    hole = await startBlackhole();
    logger.debug = logger.warn = logger.error = (message) => void logged.push(message);
  });
  after(async () => {
    await live?.stop();
    await hole?.close();
  });

  test("run with one server killed and one blackholed, and say what failed", async () => {
    const report = await runAll([live.server, killed.server, hole.server]);
    const failed = report.safeMultiSet as string[];
    assert.ok(failed.length > 0 && failed.length < 20, `failed keys: ${failed}`);
    assert.equal(report.safeMultiGet, 20 - failed.length);
    assert.equal(report.badKey, "fallback");
    assert.equal(report.basicGet, undefined);
    assert.ok(logged.some((line) => /Invalid key format: has space/.test(line)));
    assert.ok(logged.some((line) => /Partial failure in multi-set/.test(line)));
    const tracked = report.tracked as Record<string, number>;
    assert.ok(Object.keys(tracked).length > 0, "the tracker saw the dead servers' failures");
    for (const name of Object.keys(tracked)) {
      assert.ok(["ConnectionError", "Timeout", "ServerDown"].includes(name), name);
    }
  });
});
