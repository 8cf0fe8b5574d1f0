/**
 * {@linkcode Router}: sends each request to the right server in the right
 * protocol. It finds out which protocol each server speaks, follows the
 * replica rules for reads and writes, reports to `onCommand`, and turns
 * replies into results or errors.
 *
 * @module
 */
import { type Cluster, isServerFailure, noServer } from "./mod.ts";
import { type ErrorClass, errorFor, isRetriable, type MemcachedError } from "../errors.ts";
import {
  type CallOptions,
  type CommandEvent,
  millis,
  observed,
  type RetryPolicy,
  signalOf,
  sleep,
  within,
} from "./call.ts";
import { binaryWire } from "../protocol/binary_wire.ts";
import { base64Key, type SentKey } from "../protocol/keys.ts";
import { encodeMeta, metaWire } from "../protocol/meta.ts";
import { Status } from "../protocol/status.ts";
import { textWire } from "../protocol/text.ts";
import type { Answer, Remove, Request, Retrieve, Store, Wire } from "../protocol/wire.ts";
import { settle, sortOut } from "./outcomes.ts";

/**
 * Operations the `retry` option may send again: sending any of them twice
 * leaves the same outcome as once. incr/decr, append/prepend, add and cas
 * are never repeated.
 */
const IDEMPOTENT = new Set([
  "get",
  "gets",
  "getMulti",
  "getAndTouch",
  "getWithMeta",
  "touch",
  "set",
  "delete",
]);

/** Requests that carry keys, which binaryKeys cannot send over the text protocol. */
const KEYED = new Set<Request["kind"]>([
  "retrieve",
  "store",
  "remove",
  "arithmetic",
  "touch",
  "batch",
]);

/** Operations that proxies such as twemproxy refuse by closing the connection. */
const REFUSABLE = new Set(["stats", "flushAll", "getAndTouch", "listKeys"]);

/**
 * Where a request goes: `"one"` to the key's server; `"read"` to the key's
 * server, then to its replicas while servers fail; `"write"` to the key's
 * server and its replicas at once.
 */
export type Mode = "one" | "read" | "write";

/** Turns an answer into a result, calling `fail` for the error of an answer that is a failure. */
export type Handler<R> = (answer: Answer, fail: () => MemcachedError) => R;

/** The protocol a server is spoken to in. */
export type Dialect = "text" | "meta" | "binary";

/** How a {@linkcode Router} talks to its servers. */
export interface RouterOptions {
  /** The `protocol` option: "auto" finds out per server. */
  protocol: "auto" | Dialect;
  /** The default timeout of a request, in milliseconds. */
  timeout: number;
  /** Whether keys have replicas (the `replicas` behavior is above 0). */
  replicated: boolean;
  /** Whether keys travel base64-encoded in meta commands. */
  binaryKeys: boolean;
  /** Told of every request once it settles. */
  onCommand?: (event: CommandEvent) => void;
  /** How idempotent operations are tried again after a retriable failure; none when absent. */
  retry?: Required<RetryPolicy>;
}

/**
 * Sends requests to the servers of a {@linkcode Cluster}: each in the
 * protocol its server speaks, to the key's server and, as the mode says, its
 * replicas.
 */
export class Router {
  /** The servers. */
  readonly cluster: Cluster;
  readonly #timeout: number;
  readonly #replicated: boolean;
  readonly #binaryKeys: boolean;
  readonly #onCommand?: (event: CommandEvent) => void;
  readonly #retry?: Required<RetryPolicy>;
  /** Per server: how to talk to it, once known. */
  readonly #dialects: (Dialect | undefined)[];
  readonly #probes: (Promise<Dialect> | undefined)[];
  /** Each protocol's side of the wire, by dialect. */
  readonly #wires: Record<Dialect, Wire>;
  #nextOpaque = 0;

  /** Makes a router for the servers of `cluster`. */
  constructor(cluster: Cluster, options: RouterOptions) {
    this.cluster = cluster;
    this.#timeout = options.timeout;
    this.#replicated = options.replicated;
    this.#binaryKeys = options.binaryKeys;
    this.#onCommand = options.onCommand;
    this.#retry = options.retry;
    const protocol = options.protocol;
    this.#dialects = cluster.names.map(() => protocol === "auto" ? undefined : protocol);
    this.#probes = cluster.names.map(() => undefined);
    const binaryKeys = options.binaryKeys;
    const meta = metaWire((w, command, key, flags, data) => {
      const base64 = binaryKeys && key !== undefined;
      encodeMeta(w, command, base64 ? base64Key(key) : key, flags, data, base64);
    }, { textGets: !binaryKeys, quietBatches: false });
    this.#wires = { text: textWire, meta, binary: binaryWire };
  }

  /** Milliseconds a call may take when it does not say. */
  get timeout(): number {
    return this.#timeout;
  }

  /**
   * Sends one request to the server of `target` (an encoded key, or a server
   * index) as `mode` says, and turns the reply into a result with `handle`.
   * The call's `timeout` bounds all of it: finding out the server's
   * protocol, connecting, and every retry.
   */
  run<R>(
    operation: string,
    key: string | undefined,
    options: CallOptions | undefined,
    target: SentKey | number,
    mode: Mode,
    request: Request,
    handle: Handler<R>,
    written?: () => void,
  ): Promise<R> {
    const callTimeout = millis(options?.timeout, "timeout", this.#timeout);
    const signal = signalOf(options);
    const index = typeof target === "number" ? target : this.cluster.indexFor(target);
    if (index < 0) {
      return Promise.reject(noServer(operation, key));
    }
    const send = async (at: number, timeout: number): Promise<R> => {
      let dialect = this.dialect(at);
      if (dialect instanceof Promise) {
        const begun = Date.now();
        dialect = await within(dialect, timeout, signal, operation, key).catch(
          (err: MemcachedError) => {
            // The probe's error, told as this call's, of the same class (e.g. TlsError).
            const Class = err.constructor as ErrorClass;
            throw new Class(err.detail, {
              status: err.status,
              operation,
              key,
              server: this.cluster.names[at],
              cause: err.cause,
            });
          },
        );
        timeout -= Date.now() - begun;
      }
      const wire = this.#wires[dialect];
      const refusal = wire.refuses(request) ??
        (this.#binaryKeys && dialect === "text" && KEYED.has(request.kind)
          ? "binaryKeys needs a server that speaks the meta protocol"
          : undefined);
      if (refusal) {
        throw errorFor(Status.NOT_SUPPORTED, refusal, {
          operation,
          key,
          server: this.cluster.names[at],
        });
      }
      const count = wire.opaques(request);
      const opaque = count === 0 ? 0 : this.opaque(count);
      const expect = wire.expect(request);
      // Built once per send, every field present, so every request has one shape.
      const reply = await this.cluster.request(at, {
        encode: (w) => wire.encode(w, request, opaque),
        expect,
        operation,
        key,
        timeout,
        signal,
        refusable: REFUSABLE.has(operation),
        alone: operation === "listKeys",
        keys: expect === "values" ? (request as Retrieve).keys : undefined,
        opaque: expect === "meta" ? String(opaque) : undefined,
        written,
      });
      const answer = wire.read(reply, request, opaque);
      return handle(
        answer,
        () =>
          errorFor(answer.status, answer.line, { operation, key, server: this.cluster.names[at] }),
      );
    };
    const observer = this.#onCommand;
    const one = observer
      ? (at: number, ms: number) =>
        observed(
          observer,
          send(at, ms),
          operation,
          key,
          this.cluster.names[at],
          request.kind === "retrieve" ? request.keys.length : 1,
        )
      : send;
    const attempt = (first: number, ms: number): Promise<R> =>
      mode === "one" || !this.#replicated
        ? one(first, ms)
        : this.#replicate(mode, [first, ...this.cluster.replicasOf(first)], (at) => one(at, ms));
    const retry = this.#retry;
    if (!retry || !IDEMPOTENT.has(operation)) return attempt(index, callTimeout);
    return this.#retrying(retry, operation, key, target, index, callTimeout, signal, attempt);
  }

  /**
   * Runs `attempt` until it succeeds, fails in a way that is not retriable,
   * or the attempts or the call's time run out, waiting between attempts
   * with exponential backoff and full jitter. Each attempt asks again where
   * the key lives: a server ejected in between has handed its keys on.
   */
  async #retrying<R>(
    retry: Required<RetryPolicy>,
    operation: string,
    key: string | undefined,
    target: SentKey | number,
    first: number,
    timeout: number,
    signal: AbortSignal | undefined,
    attempt: (index: number, ms: number) => Promise<R>,
  ): Promise<R> {
    const end = Date.now() + timeout;
    for (let tries = 1, index = first;; tries++) {
      try {
        return await attempt(index, end - Date.now());
      } catch (err) {
        if (tries >= retry.attempts || !isRetriable(err) || signal?.aborted) throw err;
        const pause = Math.random() * Math.min(retry.maxBackoff, retry.backoff * 2 ** (tries - 1));
        if (Date.now() + pause >= end) throw err;
        await sleep(pause, signal);
      }
      index = typeof target === "number" ? target : this.cluster.indexFor(target);
      if (index < 0) throw noServer(operation, key);
    }
  }

  /**
   * A read tries the key's server, then its replicas while servers fail; a
   * write goes to all of them at once and answers with the key's server's
   * outcome, or a replica's when that server failed.
   */
  async #replicate<R>(
    mode: "read" | "write",
    targets: number[],
    one: (at: number) => Promise<R>,
  ): Promise<R> {
    if (mode === "read") {
      let first: unknown;
      for (const at of targets) {
        try {
          return await one(at);
        } catch (err) {
          if (!isServerFailure(err)) throw err;
          first ??= err;
        }
      }
      throw first;
    }
    const outcomes = await Promise.allSettled(targets.map(one));
    const primary = outcomes[0];
    if (primary.status === "fulfilled") return primary.value;
    const replica = outcomes.find((outcome) => outcome.status === "fulfilled");
    if (replica && isServerFailure(primary.reason)) return replica.value;
    throw primary.reason;
  }

  /**
   * How to talk to server `index`: the `protocol` option, or for "auto" meta
   * when it answers one `mn` (memcached 1.6+ says MN; older servers and
   * proxies say ERROR or close the connection), else text. A promise only
   * until the first answer.
   */
  dialect(index: number): Dialect | Promise<Dialect> {
    const known = this.#dialects[index];
    if (known !== undefined) return known;
    return this.#probes[index] ??= this.cluster.request(index, {
      encode: (w) => encodeMeta(w, "mn", undefined, []),
      expect: "meta",
      operation: "probe",
      timeout: this.#timeout,
      refusable: true,
    }).then(
      (reply) => this.#dialects[index] = reply.meta?.code === "MN" ? "meta" : "text",
      (err) => {
        this.#probes[index] = undefined;
        if ((err as MemcachedError).status !== Status.NOT_SUPPORTED) throw err;
        return this.#dialects[index] = "text";
      },
    );
  }

  /**
   * The first of `count` fresh opaque numbers (they wrap at 2^32, as the
   * binary protocol's do): replies must echo them.
   */
  opaque(count = 1): number {
    const first = this.#nextOpaque;
    this.#nextOpaque = (first + count) >>> 0;
    return first;
  }

  /** Sends a request to every server at once; SomeErrors when some fail. */
  async everyServer<R>(
    operation: string,
    options: CallOptions | undefined,
    request: Request,
    handle: Handler<R>,
  ): Promise<Map<string, R>> {
    const names = this.cluster.names;
    const outcomes = await Promise.allSettled(
      names.map((_, index) =>
        this.run(operation, undefined, options, index, "one", request, handle)
      ),
    );
    const results = new Map<string, R>();
    const errors = new Map<string, MemcachedError>();
    sortOut(outcomes, names, results, errors);
    return settle(results, errors, operation, names.length, "servers");
  }

  /**
   * A write to many keys. To a server that speaks meta or binary, it is one
   * request: a quiet command per key (successes say nothing) closed by a
   * no-op, so only failures travel back; elsewhere (and with replicas) one
   * request per key, by `one`. `outcome` turns each key's answer into its
   * result.
   */
  async writeMany(
    operation: string,
    requests: Map<string, Store | Remove>,
    options: CallOptions | undefined,
    one: (key: string, request: Store | Remove) => Promise<boolean>,
    outcome: Handler<boolean>,
  ): Promise<Map<string, boolean>> {
    if (this.#replicated) return this.each(requests, operation, one);
    const all = [...requests.keys()];
    const errors = new Map<string, MemcachedError>();
    const results = new Map<string, boolean>();
    const encoded = [...requests.values()].map((request) => request.key);
    await Promise.all(
      [...this.cluster.group(all, encoded, operation, errors)].map(async ([index, at]) => {
        const group = at.map((i) => all[i]);
        let dialect: Dialect;
        try {
          dialect = await this.dialect(index);
        } catch (err) {
          for (const key of group) errors.set(key, err as MemcachedError);
          return;
        }
        if (dialect === "text") {
          const outcomes = await Promise.allSettled(
            group.map((key) => one(key, requests.get(key)!)),
          );
          sortOut(outcomes, group, results, errors);
          return;
        }
        const batch = { kind: "batch", requests: group.map((key) => requests.get(key)!) } as const;
        const server = this.cluster.names[index];
        try {
          const done = await this.run(
            operation,
            undefined,
            options,
            index,
            "one",
            batch,
            (answer, fail) => {
              if (answer.status !== Status.SUCCESS) throw fail();
              const done = new Map(group.map((key) => [key, true]));
              for (const [i, each] of answer.answers!) {
                const key = group[i];
                done.set(
                  key,
                  outcome(each, () => errorFor(each.status, each.line, { operation, key, server })),
                );
              }
              return done;
            },
          );
          for (const [key, ok] of done) results.set(key, ok);
        } catch (err) {
          for (const key of group) errors.set(key, err as MemcachedError);
        }
      }),
    );
    const ordered = new Map<string, boolean>();
    for (const key of all) if (results.has(key)) ordered.set(key, results.get(key)!);
    return settle(ordered, errors, operation, all.length);
  }

  /**
   * Runs `one` for every key at once (so the requests to each server share
   * one write) and gathers the outcomes, throwing NotFound or SomeErrors for
   * failures.
   */
  async each<R, V>(
    keys: Map<string, V>,
    operation: string,
    one: (key: string, value: V) => Promise<R>,
  ): Promise<Map<string, R>> {
    const names = [...keys.keys()];
    const outcomes = await Promise.allSettled(names.map((key) => one(key, keys.get(key)!)));
    const results = new Map<string, R>();
    const errors = new Map<string, MemcachedError>();
    sortOut(outcomes, names, results, errors);
    return settle(results, errors, operation, names.length);
  }
}
