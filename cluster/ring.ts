/**
 * Key → server placement as libmemcached computes it: modula, and the
 * consistent (ketama) continuum, plain or weighted.
 *
 * @module
 */
import { type HashFunction, md5Digest, md5Word } from "./hash.ts";

/** The distributions this client implements, by pylibmc's names. */
export type Distribution =
  | "modula"
  | "consistent"
  | "consistent ketama"
  | "consistent weighted";

/** What placement needs to know of a server. */
export interface RingServer {
  /** The host name or address as given (IPv6 without brackets), or the socket path. */
  host: string;
  /** The TCP port; 0 for a Unix socket. */
  port: number;
  /** The server's weight (used by the weighted continuum). */
  weight: number;
}

/** libmemcached's points per server on the continuum, plain and weighted. */
const POINTS = 100;
const POINTS_WEIGHTED = 160;
const DEFAULT_PORT = 11211;

/**
 * Maps key hashes to server indexes. Built from the servers that are in
 * service; indexes always refer to the full server list.
 */
export class Ring {
  readonly #modulo: number;
  readonly #values: Uint32Array;
  readonly #indexes: Uint32Array;

  /** The bytes its continuum takes: 8 per point (its hash and its server). */
  get bytes(): number {
    return this.#values.byteLength + this.#indexes.byteLength;
  }

  /**
   * Builds the placement of `servers`, leaving out the indexes not in
   * `live` (ejected servers). With modula every server keeps its place, as
   * in libmemcached.
   */
  constructor(
    servers: readonly RingServer[],
    live: readonly number[],
    distribution: Distribution,
    hash: HashFunction,
  ) {
    this.#modulo = servers.length;
    this.empty = live.length === 0;
    if (distribution === "modula" || live.length === 0) {
      this.#values = new Uint32Array(0);
      this.#indexes = new Uint32Array(0);
      return;
    }
    const points: [number, number][] = [];
    const weighted = distribution === "consistent weighted";
    const total = live.reduce((sum, i) => sum + servers[i].weight, 0);
    const utf8 = new TextEncoder();
    for (const index of live) {
      const { host, port, weight } = servers[index];
      const prefix = port === DEFAULT_PORT ? host : `${host}:${port}`;
      const count = weighted ? weightedPoints(weight, total, live.length) / 4 : POINTS;
      for (let i = 0; i < count; i++) {
        const name = utf8.encode(`${prefix}-${i}`);
        if (weighted) {
          const digest = md5Digest(name);
          for (let word = 0; word < 4; word++) points.push([md5Word(digest, word), index]);
        } else {
          points.push([hash(name), index]);
        }
      }
    }
    points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.#values = Uint32Array.from(points, (p) => p[0]);
    this.#indexes = Uint32Array.from(points, (p) => p[1]);
  }

  /** Whether no server is in service. */
  readonly empty: boolean;

  /** The index of the server for a key hash. */
  pick(hash: number): number {
    if (this.#values.length === 0) return hash % this.#modulo;
    let left = 0;
    let right = this.#values.length;
    while (left < right) {
      const middle = (left + right) >>> 1;
      if (this.#values[middle] < hash) left = middle + 1;
      else right = middle;
    }
    return this.#indexes[right === this.#values.length ? 0 : right];
  }
}

/**
 * A server's points on the weighted continuum, computed in 32-bit floats as
 * libmemcached does, so that rounding lands the same way.
 */
function weightedPoints(weight: number, total: number, live: number): number {
  const f = Math.fround;
  const pct = f(f(weight) / f(total));
  const scaled = f(f(f(f(pct * POINTS_WEIGHTED) / 4) * f(live)) + f(0.0000000001));
  return Math.floor(scaled) * 4;
}
