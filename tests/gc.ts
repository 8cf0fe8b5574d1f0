/**
 * A full garbage collection on demand, for tests that measure what stays
 * alive: Bun's own, or V8's `gc`, exposed for the occasion.
 */
import v8 from "node:v8";
import vm from "node:vm";

const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
let v8Collect: (() => void) | undefined;

/** Collects garbage now, so that the heap holds only what is reachable. */
export function collectGarbage(): void {
  if (bun) return bun.gc(true);
  if (!v8Collect) {
    v8.setFlagsFromString("--expose-gc");
    v8Collect = vm.runInNewContext("gc") as () => void;
  }
  v8Collect();
}
