/**
 * The operations asked of every server at once: flush, stats, version and
 * the list of keys. Each result is a Map keyed by server name.
 *
 * @module
 */
import type { Router } from "../cluster/router.ts";
import type { DumpEntry } from "../protocol/reply.ts";
import { Status } from "../protocol/status.ts";
import {
  CALL,
  type CallOptions,
  checkNames,
  FLUSH,
  type FlushOptions,
  integer,
  MAX_TTL,
  statsGroup,
} from "./options.ts";

/** `Client.flushAll`. */
export async function flushAll(
  router: Router,
  options?: FlushOptions,
): Promise<Map<string, boolean>> {
  checkNames(options, FLUSH, "flushAll");
  const delay = integer(options?.delay, "delay", 0, MAX_TTL, 0);
  return await router.everyServer("flushAll", options, { kind: "flush", delay }, (answer, fail) => {
    if (answer.status !== Status.SUCCESS) throw fail();
    return true;
  });
}

/** `Client.stats`. */
export async function stats(
  router: Router,
  group?: string,
  options?: CallOptions,
): Promise<Map<string, Record<string, string>>> {
  checkNames(options, CALL, "stats");
  const token = group === undefined ? undefined : statsGroup(group);
  return await router.everyServer(
    "stats",
    options,
    { kind: "stats", group: token },
    (answer, fail) => {
      if (answer.status === Status.ERROR) {
        answer.status = Status.UNKNOWN_STAT_KEY;
        answer.line = `unknown stats group ${JSON.stringify(group)}`;
      }
      if (answer.status !== Status.END) throw fail();
      return Object.fromEntries(answer.stats!);
    },
  );
}

/** `Client.version`. */
export async function version(router: Router, options?: CallOptions): Promise<Map<string, string>> {
  checkNames(options, CALL, "version");
  return await router.everyServer("version", options, { kind: "version" }, (answer, fail) => {
    if (answer.version === undefined) throw fail();
    return answer.version;
  });
}

/** `Client.listKeys`: keys under `prefix`, without it. */
export async function listKeys(
  router: Router,
  prefix: string,
  options?: CallOptions,
): Promise<Map<string, DumpEntry[]>> {
  checkNames(options, CALL, "listKeys");
  return await router.everyServer("listKeys", options, { kind: "dump" }, (answer, fail) => {
    if (answer.status !== Status.END) throw fail();
    return answer.dump!
      .filter((entry) => entry.key.startsWith(prefix))
      .map((entry) => ({ ...entry, key: entry.key.slice(prefix.length) }));
  });
}
