/**
 * memcached's binary protocol: request encoders and
 * {@linkcode BinaryReplyParser}, an incremental decoder of responses.
 *
 * The client speaks the binary protocol through the meta-command model:
 * `encodeMetaAsBinary` (binary_wire.ts) turns a meta command (`mg`, `ms`,
 * `md`, `ma`, `mn`) into the binary request that does the same, and the
 * parser turns binary responses back into the replies the meta and text
 * decoders give, so one reading of answers serves every protocol. The binary
 * protocol is what SASL authentication needs.
 *
 * A packet is a 24-byte header (magic, opcode, key length, extras length,
 * data type, vbucket or status, body length, opaque, cas) followed by the
 * extras, the key and the value. Pure: bytes in, replies out.
 *
 * @module
 */
import { type MetaReply, metaStatus } from "./meta.ts";
import { Status } from "./status.ts";
import { copyOf } from "./slab.ts";
import type { Expect, Reply } from "./reply.ts";
import type { ByteWriter } from "./writer.ts";
import type { SentKey } from "./keys.ts";

/** The opcodes this client sends. */
export const Opcode = {
  GET: 0x00,
  SET: 0x01,
  ADD: 0x02,
  REPLACE: 0x03,
  DELETE: 0x04,
  INCREMENT: 0x05,
  DECREMENT: 0x06,
  FLUSH: 0x08,
  GETQ: 0x09,
  NOOP: 0x0a,
  VERSION: 0x0b,
  GETK: 0x0c,
  GETKQ: 0x0d,
  APPEND: 0x0e,
  PREPEND: 0x0f,
  STAT: 0x10,
  SETQ: 0x11,
  ADDQ: 0x12,
  REPLACEQ: 0x13,
  DELETEQ: 0x14,
  INCREMENTQ: 0x15,
  DECREMENTQ: 0x16,
  APPENDQ: 0x19,
  PREPENDQ: 0x1a,
  TOUCH: 0x1c,
  GAT: 0x1d,
  GATQ: 0x1e,
  SASL_LIST_MECHS: 0x20,
  SASL_AUTH: 0x21,
  SASL_STEP: 0x22,
  GATK: 0x23,
  GATKQ: 0x24,
} as const;

/** The size of every packet header. */
export const HEADER_SIZE = 24;
const REQUEST = 0x80;
const RESPONSE = 0x81;

/** The parts of one request packet; absent parts are empty. */
export interface BinaryRequest {
  opcode: number;
  key?: Uint8Array;
  /** The extras, already encoded. */
  extras?: Uint8Array;
  value?: Uint8Array;
  /** Echoed in the response. */
  opaque?: number;
  /** A cas token the item must still have; 0 for none. */
  cas?: bigint;
}

/**
 * Encodes one request packet.
 *
 * @example
 * ```ts
 * import { ByteWriter } from "./writer.ts";
 * import { encodeBinary, Opcode } from "./binary.ts";
 * const w = new ByteWriter();
 * encodeBinary(w, { opcode: Opcode.VERSION });
 * w.length; // 24: a header and no body
 * ```
 */
export function encodeBinary(w: ByteWriter, request: BinaryRequest): void {
  const keyLength = request.key?.length ?? 0;
  const extrasLength = request.extras?.length ?? 0;
  const valueLength = request.value?.length ?? 0;
  w.uint(REQUEST, 1);
  w.uint(request.opcode, 1);
  w.uint(keyLength, 2);
  w.uint(extrasLength, 1);
  w.uint(0, 1);
  w.uint(0, 2);
  w.uint(extrasLength + keyLength + valueLength, 4);
  w.uint(request.opaque ?? 0, 4);
  w.uint64(request.cas ?? 0n);
  if (request.extras) w.bytes(request.extras);
  if (request.key) w.bytes(request.key);
  if (request.value) w.bytes(request.value);
}

/** Big-endian 32-bit words as bytes: the extras of most requests. */
export function words(...values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setUint32(i * 4, value >>> 0));
  return bytes;
}

/** Encodes `flush` after `delay` seconds (0: now). */
export function encodeBinaryFlush(w: ByteWriter, delay: number): void {
  encodeBinary(w, { opcode: Opcode.FLUSH, extras: delay > 0 ? words(delay) : undefined });
}

/** Encodes `stat` of a group (all general statistics without one). */
export function encodeBinaryStats(w: ByteWriter, group?: Uint8Array): void {
  encodeBinary(w, { opcode: Opcode.STAT, key: group });
}

/** Encodes `version`. */
export function encodeBinaryVersion(w: ByteWriter): void {
  encodeBinary(w, { opcode: Opcode.VERSION });
}

const utf8 = new TextEncoder();

/** Encodes a request for the SASL mechanisms the server offers (a space-separated list). */
export function encodeSaslList(w: ByteWriter): void {
  encodeBinary(w, { opcode: Opcode.SASL_LIST_MECHS });
}

/**
 * Encodes the first SASL message of `mechanism` (`step: false`) or a later
 * one of a multi-step exchange (`step: true`, after an AUTH_CONTINUE).
 */
export function encodeSasl(
  w: ByteWriter,
  mechanism: string,
  data: Uint8Array,
  step = false,
): void {
  encodeBinary(w, {
    opcode: step ? Opcode.SASL_STEP : Opcode.SASL_AUTH,
    key: utf8.encode(mechanism),
    value: data,
  });
}

/**
 * Encodes a SASL PLAIN authentication (RFC 4616): the mechanism name as the
 * key and `\0username\0password` as the value.
 */
export function encodeSaslPlain(w: ByteWriter, username: string, password: string): void {
  encodeSasl(w, "PLAIN", utf8.encode(`\0${username}\0${password}`));
}

/** Binary response statuses with the libmemcached status each stands for. */
const STATUSES: Record<number, Status> = {
  0x00: Status.SUCCESS,
  0x01: Status.NOTFOUND,
  0x02: Status.DATA_EXISTS,
  0x03: Status.E2BIG,
  0x04: Status.CLIENT_ERROR,
  0x05: Status.NOTSTORED,
  0x06: Status.CLIENT_ERROR,
  0x07: Status.SERVER_ERROR,
  0x08: Status.AUTH_FAILURE,
  0x09: Status.AUTH_CONTINUE,
  0x20: Status.AUTH_FAILURE,
  0x21: Status.AUTH_CONTINUE,
  0x81: Status.ERROR,
  0x82: Status.SERVER_MEMORY_ALLOCATION_FAILURE,
  0x83: Status.NOT_SUPPORTED,
  0x84: Status.SERVER_ERROR,
  0x85: Status.SERVER_ERROR,
  0x86: Status.SERVER_ERROR,
};

/** The libmemcached status of a binary response status. */
export function binaryStatus(code: number): Status {
  return STATUSES[code] ?? Status.SERVER_ERROR;
}

/** One response packet, its body copied out of the read buffer. */
export interface Packet {
  opcode: number;
  /** The binary status code (0 is success). */
  code: number;
  opaque: number;
  cas: bigint;
  extras: Uint8Array;
  key: Uint8Array;
  value: Uint8Array;
}

const GETS = new Set<number>([
  Opcode.GET,
  Opcode.GETQ,
  Opcode.GETK,
  Opcode.GETKQ,
  Opcode.GAT,
  Opcode.GATQ,
  Opcode.GATK,
  Opcode.GATKQ,
]);
const COUNTERS = new Set<number>([
  Opcode.INCREMENT,
  Opcode.DECREMENT,
  Opcode.INCREMENTQ,
  Opcode.DECREMENTQ,
]);
/** Storage opcodes for which "not found" means "not stored" (no cas involved). */
const NEEDS_ITEM = new Set<number>([
  Opcode.REPLACE,
  Opcode.REPLACEQ,
  Opcode.APPEND,
  Opcode.APPENDQ,
  Opcode.PREPEND,
  Opcode.PREPENDQ,
]);

const text = new TextDecoder();
/** The longest key a response may carry: memcached's key limit. */
const MAX_KEY = 250;

/**
 * The meta reply a response stands for: VA for a value or a counter, HD for
 * a done write, EN for a miss, NF, NS, EX, MN for a noop; ER with a status
 * and the server's message for an error.
 */
export function packetToMeta(p: Packet): MetaReply {
  const flags: Record<string, string> = { O: String(p.opaque) };
  if (p.cas !== 0n) flags.c = String(p.cas);
  if (p.key.length) flags.k = text.decode(p.key);
  const get = GETS.has(p.opcode);
  if (p.code === 0x00) {
    if (p.opcode === Opcode.NOOP) return { code: "MN", flags };
    if (get) {
      flags.f = String(
        p.extras.length >= 4 ? new DataView(p.extras.buffer, p.extras.byteOffset).getUint32(0) : 0,
      );
      return { code: "VA", flags, value: p.value };
    }
    if (COUNTERS.has(p.opcode) && p.value.length === 8) {
      const n = new DataView(p.value.buffer, p.value.byteOffset).getBigUint64(0);
      return { code: "VA", flags, value: utf8.encode(String(n)) };
    }
    return { code: "HD", flags };
  }
  if (p.code === 0x01) {
    if (get || p.opcode === Opcode.TOUCH) return { code: "EN", flags };
    return { code: NEEDS_ITEM.has(p.opcode) ? "NS" : "NF", flags };
  }
  if (p.code === 0x02) return { code: "EX", flags };
  if (p.code === 0x05) return { code: "NS", flags };
  return { code: "ER", flags, status: binaryStatus(p.code), debug: message(p) };
}

/** The server's message of an error response, or its status code when it sent none. */
function message(p: Packet): string {
  const said = text.decode(p.value);
  return said || `binary status 0x${p.code.toString(16).padStart(2, "0")}`;
}

/**
 * Decodes binary-protocol responses from bytes as they arrive, with the
 * same contract as the text decoder: {@linkcode parse} takes the kind of
 * reply the oldest request expects and returns it once complete, and
 * {@linkcode used} says how many bytes it consumed.
 *
 * Replies take the shapes of the other decoders: `meta` gives a meta reply
 * (`reply.meta`), `metaBatch` the meta replies of quiet requests up to a
 * noop's MN, `stats` the pairs up to the closing empty stat, and `line` the
 * outcome of version, flush or SASL. An error response to a `meta` or `line`
 * request is a reply with the error's status and the server's message.
 *
 * @example
 * ```ts
 * import { BinaryReplyParser } from "./binary.ts";
 * const parser = new BinaryReplyParser(1024);
 * const noop = new Uint8Array(24);
 * noop[0] = 0x81;
 * noop[1] = 0x0a;
 * parser.parse("meta", noop, 0, 24)?.meta?.code; // "MN"
 * ```
 */
export class BinaryReplyParser {
  /** Bytes consumed by the last {@linkcode parse} call. */
  used = 0;
  #metas: MetaReply[] = [];
  #stats: [string, string][] = [];
  readonly #maxBody: number;

  /** Makes a parser that refuses values larger than `maxValueSize` bytes. */
  constructor(maxValueSize: number) {
    this.#maxBody = maxValueSize + MAX_KEY + 0xff;
  }

  /** Whether no reply is partly read. */
  get idle(): boolean {
    return this.#metas.length === 0 && this.#stats.length === 0;
  }

  /** Drops a partly read reply. */
  reset(): void {
    this.#metas = [];
    this.#stats = [];
    this.used = 0;
  }

  /**
   * Parses from `buf[start, end)`. Returns the reply when it is complete,
   * else `undefined`; a PROTOCOL_ERROR reply means the stream can no longer
   * be trusted.
   */
  parse(
    expect: Expect,
    buf: Uint8Array,
    start: number,
    end: number,
    _keys?: readonly SentKey[],
  ): Reply | undefined {
    let pos = start;
    this.used = 0;
    for (;;) {
      if (end - pos < HEADER_SIZE) {
        if (end - pos > 0 && buf[pos] !== RESPONSE) return this.#fail("bad magic byte");
        this.used = pos - start;
        return undefined;
      }
      if (buf[pos] !== RESPONSE) return this.#fail("bad magic byte");
      const view = new DataView(buf.buffer, buf.byteOffset + pos, HEADER_SIZE);
      const keyLength = view.getUint16(2);
      const extrasLength = view.getUint8(4);
      const bodyLength = view.getUint32(8);
      if (bodyLength > this.#maxBody) {
        return this.#fail(`response of ${bodyLength} bytes is larger than maxValueSize allows`);
      }
      if (keyLength > MAX_KEY || keyLength + extrasLength > bodyLength) {
        return this.#fail("malformed response header");
      }
      const next = pos + HEADER_SIZE + bodyLength;
      if (next > end) {
        this.used = pos - start;
        return undefined;
      }
      const body = pos + HEADER_SIZE;
      const packet: Packet = {
        opcode: view.getUint8(1),
        code: view.getUint16(6),
        opaque: view.getUint32(12),
        cas: view.getBigUint64(16),
        extras: copyOf(buf, body, body + extrasLength),
        key: copyOf(buf, body + extrasLength, body + extrasLength + keyLength),
        value: copyOf(buf, body + extrasLength + keyLength, next),
      };
      pos = next;
      const reply = this.#take(expect, packet);
      if (reply) {
        this.used = pos - start;
        return reply;
      }
    }
  }

  /** Adds a packet to the reply being read; returns the reply once complete. */
  #take(expect: Expect, p: Packet): Reply | undefined {
    if (expect === "metaBatch") {
      const meta = packetToMeta(p);
      // memcached refuses a command of an unauthenticated connection and
      // then closes it: no noop will close the batch, so the refusal does.
      const refused = meta.status === Status.AUTH_FAILURE;
      if (meta.code !== "MN" && !refused) {
        this.#metas.push(meta);
        return undefined;
      }
      const metas = this.#metas;
      this.#metas = [];
      if (refused) {
        metas.push(meta);
        return { status: Status.AUTH_FAILURE, line: meta.debug!, metas };
      }
      return { status: Status.END, line: "MN", metas };
    }
    if (expect === "meta") {
      const meta = packetToMeta(p);
      if (meta.code === "ER") return { status: meta.status!, line: meta.debug! };
      return { status: metaStatus(meta.code), line: meta.code, meta };
    }
    if (expect === "stats" && p.opcode === Opcode.STAT && p.code === 0x00) {
      if (p.key.length === 0) {
        const stats = this.#stats;
        this.#stats = [];
        return { status: Status.END, line: "END", stats };
      }
      this.#stats.push([text.decode(p.key), text.decode(p.value)]);
      return undefined;
    }
    this.#stats = [];
    if (p.code !== 0x00) {
      // An unknown stats group is "not found" here and ERROR in text.
      const status = expect === "stats" && p.code === 0x01 ? Status.ERROR : binaryStatus(p.code);
      return { status, line: message(p) };
    }
    if (p.opcode === Opcode.VERSION) {
      const version = text.decode(p.value);
      return { status: Status.SUCCESS, line: `VERSION ${version}`, version };
    }
    return { status: Status.SUCCESS, line: text.decode(p.value) || "OK" };
  }

  #fail(why: string): Reply {
    this.reset();
    return { status: Status.PROTOCOL_ERROR, line: why };
  }
}
