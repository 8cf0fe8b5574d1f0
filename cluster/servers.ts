/**
 * Server addresses as users write them, in pylibmc's forms.
 *
 * @module
 */
import { InvalidHostProtocolError } from "../errors.ts";
import type { Address } from "../transport/mod.ts";

/** memcached's port when none is given. */
export const DEFAULT_PORT = 11211;

/** A parsed server entry. */
export type Server = Address & {
  /** How many shares of the keys this server gets (1 unless given). */
  weight: number;
};

const HOST = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;

/**
 * Parses one server entry: `"host"`, `"host:port"`, `"host:port:weight"`,
 * `"[::1]"`, `"[::1]:port[:weight]"`, `"/path/to.sock"`, or a URL
 * `memcached://host[:port]`, or `memcacheds://host[:port]` for a server
 * spoken to over TLS. Anything else is InvalidHostProtocolError.
 *
 * @example
 * ```ts
 * import { parseServer } from "./servers.ts";
 * parseServer("cache-1:11212:2"); // { kind: "tcp", host: "cache-1", port: 11212, weight: 2 }
 * parseServer("/run/memcached.sock"); // { kind: "unix", path: "/run/memcached.sock", weight: 1 }
 * ```
 */
export function parseServer(spec: string): Server {
  if (typeof spec !== "string") {
    throw new InvalidHostProtocolError(`server must be a string, not ${typeof spec}`);
  }
  const bad = (why: string) =>
    new InvalidHostProtocolError(`invalid server ${JSON.stringify(spec)}: ${why}`);
  if (spec.startsWith("/")) {
    if (/[\0\r\n]/.test(spec)) throw bad("control character in socket path");
    if (spec.endsWith("/")) throw bad("a socket path names a file, not a folder");
    return { kind: "unix", path: spec, weight: 1 };
  }
  let rest = spec;
  const url = /^memcached(s?):\/\/(.*)$/i.exec(spec);
  if (url) {
    rest = url[2].replace(/\/$/, "");
    if (rest.includes("/") || rest.includes("@") || rest.includes("?")) {
      throw bad("a memcached:// URL holds only host and port");
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw bad("unknown scheme (use memcached:// or memcacheds://)");
  }
  let host: string;
  let tail: string[];
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0) throw bad("missing ]");
    host = rest.slice(1, close);
    if (!IPV6.test(host) || !host.includes(":")) throw bad("not an IPv6 address");
    const after = rest.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) throw bad("junk after ]");
    tail = after === "" ? [] : after.slice(1).split(":");
  } else {
    [host, ...tail] = rest.split(":");
    if (!HOST.test(host)) throw bad("not a host name or address");
  }
  if (tail.length > (url ? 1 : 2)) throw bad("too many fields");
  const port = tail.length > 0 ? number(tail[0], 65535) : DEFAULT_PORT;
  if (port === undefined || port === 0) throw bad("port must be 1 to 65535");
  const weight = tail.length > 1 ? number(tail[1], 0xffffffff) : 1;
  if (weight === undefined || weight === 0) throw bad("weight must be a positive integer");
  return url?.[1]
    ? { kind: "tcp", host, port, weight, tls: true }
    : { kind: "tcp", host, port, weight };
}

function number(text: string, max: number): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}
