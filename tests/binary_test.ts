/**
 * The binary protocol's encoders, the meta-to-binary translation, and
 * responses split at every byte offset.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  BinaryReplyParser,
  encodeBinary,
  encodeBinaryFlush,
  encodeBinaryStats,
  encodeSasl,
  encodeSaslList,
  encodeSaslPlain,
  Opcode,
} from "../protocol/binary.ts";
import { encodeMetaAsBinary } from "../protocol/binary_wire.ts";
import { Status } from "../protocol/status.ts";
import { ByteWriter } from "../protocol/writer.ts";
import { bytes, splitEverywhere, text } from "./split.ts";

/** The packets of what `write` encodes, header fields decoded. */
function packets(write: (w: ByteWriter) => void) {
  const w = new ByteWriter(4);
  write(w);
  const buf = w.view().slice();
  const view = new DataView(buf.buffer);
  const out = [];
  for (let at = 0; at < buf.length;) {
    const keyLength = view.getUint16(at + 2);
    const extrasLength = view.getUint8(at + 4);
    const body = view.getUint32(at + 8);
    const start = at + 24;
    out.push({
      magic: view.getUint8(at),
      opcode: view.getUint8(at + 1),
      opaque: view.getUint32(at + 12),
      cas: view.getBigUint64(at + 16),
      extras: [...buf.slice(start, start + extrasLength)],
      key: text(buf.slice(start + extrasLength, start + extrasLength + keyLength)),
      value: text(buf.slice(start + extrasLength + keyLength, start + body)),
    });
    at = start + body;
  }
  return out;
}

/** A response packet. */
function response(
  opcode: number,
  options: {
    status?: number;
    key?: string;
    extras?: number[];
    value?: Uint8Array | string;
    opaque?: number;
    cas?: bigint;
  } = {},
): Uint8Array {
  const key = bytes(options.key ?? "");
  const extras = new Uint8Array(options.extras ?? []);
  const value = typeof options.value === "string"
    ? bytes(options.value)
    : options.value ?? new Uint8Array(0);
  const buf = new Uint8Array(24 + extras.length + key.length + value.length);
  const view = new DataView(buf.buffer);
  view.setUint8(0, 0x81);
  view.setUint8(1, opcode);
  view.setUint16(2, key.length);
  view.setUint8(4, extras.length);
  view.setUint16(6, options.status ?? 0);
  view.setUint32(8, extras.length + key.length + value.length);
  view.setUint32(12, options.opaque ?? 0);
  view.setBigUint64(16, options.cas ?? 0n);
  buf.set(extras, 24);
  buf.set(key, 24 + extras.length);
  buf.set(value, 24 + extras.length + key.length);
  return buf;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

describe("binary protocol encoders", () => {
  test("a request has the request magic, its lengths, opaque and cas", () => {
    const [p] = packets((w) =>
      encodeBinary(w, {
        opcode: Opcode.SET,
        key: bytes("k"),
        extras: new Uint8Array(8),
        value: bytes("vv"),
        opaque: 9,
        cas: 5n,
      })
    );
    assert.deepEqual(p, {
      magic: 0x80,
      opcode: Opcode.SET,
      opaque: 9,
      cas: 5n,
      extras: [0, 0, 0, 0, 0, 0, 0, 0],
      key: "k",
      value: "vv",
    });
  });

  test("mg becomes get, gat or touch, and quiet mg the key-returning quiet forms", () => {
    const k = bytes("k");
    const opcodes = (flags: string[]) =>
      packets((w) => encodeMetaAsBinary(w, "mg", k, flags))[0].opcode;
    assert.equal(opcodes(["v", "f"]), Opcode.GET);
    assert.equal(opcodes(["v", "f", "c"]), Opcode.GET);
    assert.equal(opcodes(["v", "f", "q", "O3"]), Opcode.GETKQ);
    assert.equal(opcodes(["v", "f", "T60"]), Opcode.GAT);
    assert.equal(opcodes(["v", "f", "T60", "q"]), Opcode.GATKQ);
    assert.equal(opcodes(["T60"]), Opcode.TOUCH);
    const [touch] = packets((w) => encodeMetaAsBinary(w, "mg", k, ["T60", "O7"]));
    assert.deepEqual(touch.extras, [0, 0, 0, 60]);
    assert.equal(touch.opaque, 7);
  });

  test("ms becomes the storage opcode of its mode, with flags and ttl as extras", () => {
    const k = bytes("k");
    const one = (flags: string[]) =>
      packets((w) => encodeMetaAsBinary(w, "ms", k, flags, bytes("v")))[0];
    const set = one(["F16", "T60", "MS", "C42", "O1"]);
    assert.equal(set.opcode, Opcode.SET);
    assert.deepEqual(set.extras, [0, 0, 0, 16, 0, 0, 0, 60]);
    assert.equal(set.cas, 42n);
    assert.equal(set.value, "v");
    assert.equal(one(["ME"]).opcode, Opcode.ADD);
    assert.equal(one(["MR"]).opcode, Opcode.REPLACE);
    assert.equal(one(["MA"]).opcode, Opcode.APPEND);
    assert.deepEqual(one(["MA"]).extras, [], "append has no extras");
    assert.equal(one(["MP"]).opcode, Opcode.PREPEND);
    assert.equal(one(["MS", "q"]).opcode, Opcode.SETQ);
    assert.equal(one(["ME", "q"]).opcode, Opcode.ADDQ);
  });

  test("md is delete, ma incr or decr that fails on a missing counter, mn noop", () => {
    const k = bytes("k");
    assert.equal(packets((w) => encodeMetaAsBinary(w, "md", k, []))[0].opcode, Opcode.DELETE);
    assert.equal(packets((w) => encodeMetaAsBinary(w, "md", k, ["q"]))[0].opcode, Opcode.DELETEQ);
    const [incr] = packets((w) => encodeMetaAsBinary(w, "ma", k, ["MI", "D5", "v"]));
    assert.equal(incr.opcode, Opcode.INCREMENT);
    assert.deepEqual(incr.extras, [
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      5,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      255,
      255,
      255,
      255,
    ]);
    const [decr] = packets((w) => encodeMetaAsBinary(w, "ma", k, ["MD", "D1"]));
    assert.equal(decr.opcode, Opcode.DECREMENT);
    assert.equal(packets((w) => encodeMetaAsBinary(w, "mn", undefined, []))[0].opcode, Opcode.NOOP);
  });

  test("flush carries its delay, stats its group, SASL PLAIN the mechanism and credentials", () => {
    assert.deepEqual(packets((w) => encodeBinaryFlush(w, 0))[0].extras, []);
    assert.deepEqual(packets((w) => encodeBinaryFlush(w, 10))[0].extras, [0, 0, 0, 10]);
    assert.equal(packets((w) => encodeBinaryStats(w, bytes("items")))[0].key, "items");
    const [auth] = packets((w) => encodeSaslPlain(w, "user", "secret"));
    assert.equal(auth.opcode, Opcode.SASL_AUTH);
    assert.equal(auth.key, "PLAIN");
    assert.equal(auth.value, "\0user\0secret");
    assert.equal(packets(encodeSaslList)[0].opcode, Opcode.SASL_LIST_MECHS);
    const [step] = packets((w) => encodeSasl(w, "SCRAM-SHA-256", bytes("c=biws"), true));
    assert.deepEqual([step.opcode, step.key, step.value], [
      Opcode.SASL_STEP,
      "SCRAM-SHA-256",
      "c=biws",
    ]);
  });
});

describe("binary protocol responses", () => {
  test("a get hit is a VA meta reply with flags, cas and value; a miss is EN", () => {
    const hit = response(Opcode.GET, { extras: [0, 0, 0, 16], value: "hello", cas: 7n, opaque: 4 });
    const miss = response(Opcode.GET, { status: 0x01, value: "Not found", opaque: 5 });
    const [a, b] = splitEverywhere(["meta", "meta"], concat(hit, miss), true);
    assert.equal(a.meta?.code, "VA");
    assert.deepEqual(a.meta?.flags, { O: "4", c: "7", f: "16" });
    assert.equal(text(a.meta!.value!), "hello");
    assert.equal(b.meta?.code, "EN");
    assert.equal(b.status, Status.NOTFOUND);
  });

  test("storage outcomes read as the meta codes HD, NS, EX and NF", () => {
    const stream = concat(
      response(Opcode.SET, { cas: 9n }),
      response(Opcode.ADD, { status: 0x02 }),
      response(Opcode.REPLACE, { status: 0x01 }),
      response(Opcode.APPEND, { status: 0x05 }),
      response(Opcode.SET, { status: 0x01 }),
      response(Opcode.DELETE, { status: 0x01 }),
    );
    const codes = splitEverywhere(Array(6).fill("meta"), stream, true).map((r) => r.meta?.code);
    assert.deepEqual(codes, ["HD", "EX", "NS", "NS", "NF", "NF"]);
  });

  test("a counter's 64-bit value reads as its decimal digits", () => {
    const value = new Uint8Array(8);
    new DataView(value.buffer).setBigUint64(0, 2n ** 64n - 1n);
    const [reply] = splitEverywhere(["meta"], response(Opcode.INCREMENT, { value }), true);
    assert.equal(text(reply.meta!.value!), "18446744073709551615");
  });

  test("an error response is a reply with the error's status and the server's message", () => {
    const stream = concat(
      response(Opcode.SET, { status: 0x03, value: "Too large." }),
      response(Opcode.INCREMENT, {
        status: 0x06,
        value: "Non-numeric server-side value for incr or decr",
      }),
      response(0x55, { status: 0x81, value: "Unknown command" }),
      response(Opcode.SET, { status: 0x82 }),
    );
    const replies = splitEverywhere(Array(4).fill("meta"), stream, true);
    assert.deepEqual(replies.map((r) => r.status), [
      Status.E2BIG,
      Status.CLIENT_ERROR,
      Status.ERROR,
      Status.SERVER_MEMORY_ALLOCATION_FAILURE,
    ]);
    assert.equal(replies[0].line, "Too large.");
    assert.equal(replies[3].line, "binary status 0x82");
    assert.equal(replies[0].meta, undefined);
  });

  test("quiet responses gather until the noop, errors among them kept with their opaque", () => {
    const stream = concat(
      response(Opcode.GETKQ, { key: "a", extras: [0, 0, 0, 0], value: "1", opaque: 0 }),
      response(Opcode.SETQ, { status: 0x82, value: "Out of memory", opaque: 2 }),
      response(Opcode.NOOP),
    );
    const [batch] = splitEverywhere(["metaBatch"], stream, true);
    assert.equal(batch.status, Status.END);
    assert.deepEqual(batch.metas?.map((m) => [m.code, m.flags.O, m.flags.k]), [
      ["VA", "0", "a"],
      ["ER", "2", undefined],
    ]);
    assert.equal(batch.metas?.[1].status, Status.SERVER_MEMORY_ALLOCATION_FAILURE);
  });

  test("stats gather until the empty stat; an unknown group reads as text's ERROR", () => {
    const stream = concat(
      response(Opcode.STAT, { key: "pid", value: "42" }),
      response(Opcode.STAT, { key: "uptime", value: "7" }),
      response(Opcode.STAT),
      response(Opcode.STAT, { status: 0x01, value: "Not found" }),
    );
    const [stats, unknown] = splitEverywhere(["stats", "stats"], stream, true);
    assert.deepEqual(stats.stats, [["pid", "42"], ["uptime", "7"]]);
    assert.equal(unknown.status, Status.ERROR);
  });

  test("the server's SASL mechanisms come back as a line", () => {
    const [reply] = splitEverywhere(
      ["line"],
      response(Opcode.SASL_LIST_MECHS, { value: "PLAIN" }),
      true,
    );
    assert.equal(reply.line, "PLAIN");
  });

  test("version, flush and SASL replies are lines", () => {
    const stream = concat(
      response(Opcode.VERSION, { value: "1.6.18" }),
      response(Opcode.FLUSH),
      response(Opcode.SASL_AUTH, { value: "Authenticated" }),
      response(Opcode.SASL_AUTH, { status: 0x20, value: "Auth failure" }),
    );
    const replies = splitEverywhere(Array(4).fill("line"), stream, true);
    assert.equal(replies[0].version, "1.6.18");
    assert.deepEqual(replies.map((r) => r.status), [
      Status.SUCCESS,
      Status.SUCCESS,
      Status.SUCCESS,
      Status.AUTH_FAILURE,
    ]);
  });

  test("a bad magic byte, an oversized body or a key longer than its body is a protocol error", () => {
    const parser = new BinaryReplyParser(1024);
    const bad = response(Opcode.GET);
    bad[0] = 0x80;
    assert.equal(parser.parse("meta", bad, 0, bad.length)?.status, Status.PROTOCOL_ERROR);
    const huge = response(Opcode.GET);
    new DataView(huge.buffer).setUint32(8, 1 << 30);
    assert.equal(parser.parse("meta", huge, 0, huge.length)?.status, Status.PROTOCOL_ERROR);
    const keyed = response(Opcode.GET, { key: "abc" });
    new DataView(keyed.buffer).setUint32(8, 1);
    assert.equal(parser.parse("meta", keyed, 0, keyed.length)?.status, Status.PROTOCOL_ERROR);
  });

  test("a partial packet waits, consuming nothing", () => {
    const parser = new BinaryReplyParser(1024);
    const packet = response(Opcode.GET, { extras: [0, 0, 0, 0], value: "hello" });
    assert.equal(parser.parse("meta", packet, 0, packet.length - 1), undefined);
    assert.equal(parser.used, 0);
    assert.equal(parser.idle, true);
  });
});
