/**
 * The meta protocol's encoders and replies, every reply split at every byte
 * offset.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encodeMeta } from "../protocol/meta.ts";
import { Status } from "../protocol/status.ts";
import { bytes, encoded, feed, splitEverywhere, text } from "./split.ts";

describe("meta protocol encoders", () => {
  test("mg, md, ma and me carry the key and flags", () => {
    assert.equal(
      encoded((w) => encodeMeta(w, "mg", bytes("k"), ["v", "f", "c", "O7"])),
      "mg k v f c O7\r\n",
    );
    assert.equal(encoded((w) => encodeMeta(w, "md", bytes("k"), ["q", "O8"])), "md k q O8\r\n");
    assert.equal(
      encoded((w) => encodeMeta(w, "ma", bytes("k"), ["MI", "D5", "v"])),
      "ma k MI D5 v\r\n",
    );
    assert.equal(encoded((w) => encodeMeta(w, "me", bytes("k"), [])), "me k\r\n");
  });

  test("ms carries the data length before the flags, and the data block", () => {
    const line = encoded((w) =>
      encodeMeta(w, "ms", bytes("k"), ["F16", "T60", "MS"], bytes("v\r\n"))
    );
    assert.equal(line, "ms k 3 F16 T60 MS\r\nv\r\n\r\n");
  });

  test("ms with text data counts its length in bytes of UTF-8", () => {
    assert.equal(
      encoded((w) => encodeMeta(w, "ms", bytes("k"), ["F16"], "")),
      "ms k 0 F16\r\n\r\n",
    );
    assert.equal(
      encoded((w) => encodeMeta(w, "ms", bytes("k"), ["F16"], "héllo")),
      "ms k 6 F16\r\nhéllo\r\n",
    );
    const long = "é".repeat(100) + "x".repeat(100);
    assert.equal(
      encoded((w) => encodeMeta(w, "ms", bytes("k"), ["F16"], long)),
      `ms k 300 F16\r\n${long}\r\n`,
    );
  });

  test("a base64 key gets the b flag", () => {
    assert.equal(
      encoded((w) => encodeMeta(w, "mg", bytes("YSBi"), ["v"], undefined, true)),
      "mg YSBi b v\r\n",
    );
    assert.equal(
      encoded((w) => encodeMeta(w, "ms", bytes("YSBi"), [], bytes("x"), true)),
      "ms YSBi 1 b\r\nx\r\n",
    );
  });

  test("any flag can be sent: vivify, invalidate, explicit cas, mode", () => {
    assert.equal(
      encoded((w) => encodeMeta(w, "mg", bytes("k"), ["v", "N30", "T60", "k", "O1"])),
      "mg k v N30 T60 k O1\r\n",
    );
    assert.equal(
      encoded((w) => encodeMeta(w, "ms", bytes("k"), ["I", "E77", "C5", "MR"], bytes("v"))),
      "ms k 1 I E77 C5 MR\r\nv\r\n",
    );
    assert.equal(
      encoded((w) => encodeMeta(w, "md", bytes("k"), ["I", "T30", "q"])),
      "md k I T30 q\r\n",
    );
  });

  test("mn has no key", () => {
    assert.equal(encoded((w) => encodeMeta(w, "mn", undefined, [])), "mn\r\n");
  });
});

describe("meta replies", () => {
  test("each code maps to a status and keeps its flags", () => {
    const cases: [string, Status][] = [
      ["HD c5 O1", Status.SUCCESS],
      ["EN", Status.NOTFOUND],
      ["NS O2", Status.NOTSTORED],
      ["EX", Status.DATA_EXISTS],
      ["NF O3 kabc", Status.NOTFOUND],
      ["MN", Status.END],
    ];
    for (const [line, status] of cases) {
      const [reply] = splitEverywhere(["meta"], bytes(line + "\r\n"));
      assert.equal(reply.status, status, line);
      assert.equal(reply.meta!.code, line.slice(0, 2));
    }
    const [hd] = splitEverywhere(["meta"], bytes("HD c5 O1 b\r\n"));
    assert.deepEqual(hd.meta!.flags, { c: "5", O: "1", b: "" });
  });

  test("VA carries its data block, which may hold CR LF and reply codes", () => {
    const value = "x\r\nEN\r\nHD\r\n";
    const [reply] = splitEverywhere(
      ["meta"],
      bytes(`VA ${value.length} f16 c9 t-1 h1 O4\r\n${value}\r\n`),
    );
    assert.equal(text(reply.meta!.value!), value);
    assert.deepEqual(reply.meta!.flags, { f: "16", c: "9", t: "-1", h: "1", O: "4" });
  });

  test("a VA block with a text flag comes as text when it is valid UTF-8 without U+FFFD", () => {
    const va = (flags: string, data: Uint8Array) =>
      feed(
        ["meta"],
        new Uint8Array([...bytes(`VA ${data.length} ${flags}\r\n`), ...data, 13, 10]),
        [],
        {
          textFlags: [16],
        },
      )[0].meta!;
    assert.equal(va("f16", bytes("café")).text, "café");
    assert.equal(va("f16", bytes("café")).value, undefined);
    assert.deepEqual(va("f0", bytes("café")).value, bytes("café"));
    assert.deepEqual(va("f16", new Uint8Array([0xff])).value, new Uint8Array([0xff]));
    assert.deepEqual(va("f16", bytes("\uFFFD")).value, bytes("\uFFFD"));
  });

  test("win, stale and already-won flags come back without tokens", () => {
    const [reply] = splitEverywhere(["meta"], bytes("VA 1 W X Z c3 kkey\r\nv\r\n"));
    assert.deepEqual(reply.meta!.flags, { W: "", X: "", Z: "", c: "3", k: "key" });
  });

  test("an empty value decodes", () => {
    const [reply] = splitEverywhere(["meta"], bytes("VA 0 O1\r\n\r\n"));
    assert.deepEqual(reply.meta!.value, new Uint8Array(0));
  });

  test("a quiet batch collects every reply until MN, error lines included", () => {
    const stream = bytes(
      "VA 1 O1 kA\r\na\r\nNS O2\r\nSERVER_ERROR out of memory\r\nMN\r\nHD O9\r\n",
    );
    const [batch, after] = splitEverywhere(["metaBatch", "meta"], stream);
    assert.equal(batch.status, Status.END);
    assert.deepEqual(batch.metas!.map((m) => m.code), ["VA", "NS", "ER"]);
    assert.equal(text(batch.metas![0].value!), "a");
    assert.equal(batch.metas![2].status, Status.SERVER_MEMORY_ALLOCATION_FAILURE);
    assert.equal(after.meta!.flags.O, "9");
  });

  test("an empty quiet batch is just MN", () => {
    const [batch] = splitEverywhere(["metaBatch"], bytes("MN\r\n"));
    assert.deepEqual(batch.metas, []);
  });

  test("an error line answers a single meta command", () => {
    const [reply] = splitEverywhere(["meta"], bytes("CLIENT_ERROR bad command line format\r\n"));
    assert.equal(reply.status, Status.CLIENT_ERROR);
  });

  test("ME carries the debug line", () => {
    const [reply] = splitEverywhere(["meta"], bytes("ME k exp=-1 la=3 cas=2\r\n"));
    assert.equal(reply.meta!.debug, "k exp=-1 la=3 cas=2");
  });

  test("malformed and oversized replies are protocol errors", () => {
    for (
      const stream of [
        "VA x\r\n",
        "VA 1\r\nxx\r\n",
        "HD 5\r\n",
        "VALUE k 0 1\r\nv\r\nEND\r\n",
        "END\r\n",
      ]
    ) {
      const [reply] = feed(["meta"], bytes(stream), []);
      assert.equal(reply.status, Status.PROTOCOL_ERROR, JSON.stringify(stream));
    }
    const [big] = feed(["meta"], bytes("VA 2000 O1\r\n"), [], { max: 1024 });
    assert.equal(big.status, Status.PROTOCOL_ERROR);
  });
});
