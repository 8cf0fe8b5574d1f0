/**
 * The text protocol's encoders and its incremental reply decoder, fed every
 * reply split at every byte offset.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { describe, test } from "node:test";
import { Status } from "../protocol/status.ts";
import { bytes, encoded, feed, splitEverywhere, text } from "./split.ts";
import type { AsciiText } from "../protocol/ascii.ts";
import type { Item, Reply } from "../protocol/reply.ts";
import { asciiTextFor, runtime } from "../transport/mod.ts";
import { collectGarbage } from "./gc.ts";
import type { SentKey } from "../protocol/keys.ts";
import {
  encodeArith,
  encodeDelete,
  encodeFlushAll,
  encodeRetrieve,
  encodeStats,
  encodeStore,
  encodeTouch,
  encodeVersion,
} from "../protocol/text.ts";
import { MAX_LINE, TextReplyParser } from "../protocol/text_parser.ts";

describe("text protocol encoders", () => {
  test("storage commands carry flags, ttl, length and the data block", () => {
    const line = encoded((w) => encodeStore(w, "set", bytes("k"), 16, 60, bytes("v\r\n")));
    assert.equal(line, "set k 16 60 3\r\nv\r\n\r\n");
  });

  test("text data is written as its UTF-8, the length counted in bytes", () => {
    assert.equal(
      encoded((w) => encodeStore(w, "set", bytes("k"), 16, 0, "héllo")),
      "set k 16 0 6\r\nhéllo\r\n",
    );
    const ascii = "x".repeat(1000);
    assert.equal(
      encoded((w) => encodeStore(w, "add", bytes("k"), 16, 0, ascii)),
      `add k 16 0 1000\r\n${ascii}\r\n`,
    );
    const mixed = "x".repeat(1000) + "é€𝄞";
    assert.equal(
      encoded((w) => encodeStore(w, "set", bytes("k"), 16, 0, mixed)),
      `set k 16 0 1009\r\n${mixed}\r\n`,
    );
  });

  test("cas carries the token after the length", () => {
    const line = encoded((w) => encodeStore(w, "cas", bytes("k"), 0, 0, bytes("v"), 42n));
    assert.equal(line, "cas k 0 0 1 42\r\nv\r\n");
  });

  test("get and gets list every key", () => {
    assert.equal(encoded((w) => encodeRetrieve(w, "get", [bytes("a"), bytes("b")])), "get a b\r\n");
    assert.equal(encoded((w) => encodeRetrieve(w, "gets", [bytes("a")])), "gets a\r\n");
  });

  test("the other commands", () => {
    assert.equal(encoded((w) => encodeDelete(w, bytes("k"))), "delete k\r\n");
    assert.equal(
      encoded((w) => encodeArith(w, "incr", bytes("k"), 2n ** 64n - 1n)),
      "incr k 18446744073709551615\r\n",
    );
    assert.equal(encoded((w) => encodeArith(w, "decr", bytes("k"), 1n)), "decr k 1\r\n");
    assert.equal(encoded((w) => encodeTouch(w, bytes("k"), 9)), "touch k 9\r\n");
    assert.equal(encoded((w) => encodeFlushAll(w, 0)), "flush_all\r\n");
    assert.equal(encoded((w) => encodeFlushAll(w, 5)), "flush_all 5\r\n");
    assert.equal(encoded((w) => encodeStats(w)), "stats\r\n");
    assert.equal(encoded((w) => encodeStats(w, bytes("items"))), "stats items\r\n");
    assert.equal(encoded((w) => encodeVersion(w)), "version\r\n");
  });
});

describe("text reply decoder", () => {
  test("items of a multi-get carry the very key asked for and its index, in the order asked", () => {
    const keys = [bytes("a"), bytes("b"), bytes("c")];
    const stream = bytes("VALUE c 0 1\r\nz\r\nVALUE a 0 1\r\nx\r\nEND\r\n");
    const parser = new TextReplyParser(1024);
    const reply = parser.parse("values", stream, 0, stream.length, keys)!;
    const [c, a] = reply.items!;
    assert.equal(c.key, keys[2]);
    assert.equal(c.index, 2);
    // Out of the order asked: a copy of the key it names, and no index.
    assert.notEqual(a.key, keys[0]);
    assert.equal(text(a.key), "a");
    assert.equal(a.index, undefined);
  });

  const asSent: [string, (key: string) => SentKey][] = [["bytes", bytes], ["strings", (k) => k]];
  for (const [kind, toKey] of asSent) {
    test(`items read the same, split anywhere, whether or not the keys asked for are known (${kind})`, () => {
      const keys = ["a", "b", "c", "dd"].map(toKey);
      const stream = bytes(
        "VALUE a 16 1\r\nx\r\nVALUE c 0 3 12\r\nzzz\r\nVALUE dd 4294967295 0\r\n\r\nEND\r\n",
      );
      const plain = (reply: Reply) =>
        reply.items!.map((i) => [text(i.key), i.flags, text(i.value), i.cas]);
      const [whole] = feed(["values"], stream, []);
      for (let at = 0; at <= stream.length; at++) {
        const [reply] = feed(["values"], stream, [at], { keys });
        assert.deepEqual(plain(reply), plain(whole), `split at ${at}`);
        assert.deepEqual(reply.items!.map((i) => i.index), [0, 2, 3]);
        assert.ok(reply.items!.every((i, n) => i.key === keys[[0, 2, 3][n]]));
      }
    });
  }

  test("a metadump's LF-ended lines are decoded up to END, keys percent-decoded", () => {
    const stream = bytes(
      "key=a%2520b exp=-1 la=100 cas=7 fetch=yes cls=1 size=65\n" +
        "key=%D0%BA exp=200 la=100 cas=8 fetch=no cls=2 size=70\nEND\r\n",
    );
    const [reply] = splitEverywhere(["dump"], stream);
    assert.equal(reply.status, Status.END);
    assert.deepEqual(reply.dump, [
      { key: "a%20b", exp: -1, la: 100, cas: 7n, fetch: true, cls: 1, size: 65 },
      { key: "к", exp: 200, la: 100, cas: 8n, fetch: false, cls: 2, size: 70 },
    ]);
  });

  test("a metadump refused by the server is its error line; a malformed one a protocol error", () => {
    const [busy] = splitEverywhere(["dump"], bytes("ERROR cannot pipeline other commands\r\n"));
    assert.equal(busy.status, Status.ERROR);
    const [bad] = feed(["dump"], bytes("key=k exp=x\nEND\r\n"), []);
    assert.equal(bad.status, Status.PROTOCOL_ERROR);
  });

  test("single-line replies map to libmemcached statuses", () => {
    const lines: [string, Status][] = [
      ["STORED", Status.STORED],
      ["NOT_STORED", Status.NOTSTORED],
      ["EXISTS", Status.DATA_EXISTS],
      ["NOT_FOUND", Status.NOTFOUND],
      ["DELETED", Status.DELETED],
      ["TOUCHED", Status.SUCCESS],
      ["OK", Status.SUCCESS],
      ["ERROR", Status.ERROR],
      ["CLIENT_ERROR bad data chunk", Status.CLIENT_ERROR],
      ["SERVER_ERROR object too large for cache", Status.E2BIG],
      ["SERVER_ERROR out of memory storing object", Status.SERVER_MEMORY_ALLOCATION_FAILURE],
      ["SERVER_ERROR busy", Status.SERVER_ERROR],
      ["WHAT", Status.PROTOCOL_ERROR],
    ];
    for (const [line, status] of lines) {
      const [reply] = splitEverywhere(["line"], bytes(line + "\r\n"));
      assert.equal(reply.status, status, line);
    }
  });

  test("a line that is no reply is named once in the protocol error", () => {
    for (const expect of ["values", "stats", "line"] as const) {
      const [reply] = splitEverywhere([expect], bytes("HTTP/1.1 400 Bad Request\r\n"));
      assert.equal(reply.status, Status.PROTOCOL_ERROR, expect);
      assert.equal(reply.line, 'unexpected line "HTTP/1.1 400 Bad Request"', expect);
    }
  });

  test("a number reply carries a bigint over the full 64-bit range", () => {
    const [small, big] = splitEverywhere(["line", "line"], bytes("42\r\n18446744073709551615\r\n"));
    assert.equal(small.number, 42n);
    assert.equal(big.number, 2n ** 64n - 1n);
    const [over] = feed(["line"], bytes("18446744073709551616\r\n"), []);
    assert.equal(over.status, Status.PROTOCOL_ERROR);
  });

  test("a version reply carries the version", () => {
    const [reply] = splitEverywhere(["line"], bytes("VERSION 1.6.18\r\n"));
    assert.equal(reply.version, "1.6.18");
  });

  test("a values reply carries every item, with cas tokens for gets", () => {
    const stream = bytes("VALUE a 0 1 7\r\nx\r\nVALUE bb 4294967295 0\r\n\r\nEND\r\n");
    const [reply] = splitEverywhere(["values"], stream);
    assert.equal(reply.status, Status.END);
    assert.deepEqual(reply.items!.map((i) => [text(i.key), i.flags, text(i.value), i.cas]), [
      ["a", 0, "x", 7n],
      ["bb", 4294967295, "", undefined],
    ]);
  });

  // Each runtime's native ASCII reader, and the decoder's own way without one.
  const readers: [string, AsciiText | undefined][] = [["the decoder's own way", undefined]];
  if (asciiTextFor(runtime)) readers.push([`${runtime}'s reader`, asciiTextFor(runtime)]);
  for (const [way, asciiText] of readers) {
    test(`items with a text flag carry ASCII data as text; others keep their bytes (${way})`, () => {
      const stream = bytes("VALUE a 16 1\r\nx\r\nVALUE b 0 2\r\nyz\r\nVALUE c 16 0\r\n\r\nEND\r\n");
      const [reply] = feed(["values"], stream, [], { textFlags: [16], asciiText });
      assert.deepEqual(reply.items!.map((i) => [text(i.key), i.text, text(i.value)]), [
        ["a", "x", ""],
        ["b", undefined, "yz"],
        ["c", "", ""],
      ]);
    });

    test(`text items read together that are not all ASCII are each decoded from their own bytes, however the reply is split (${way})`, () => {
      const values = ["plain", "café", "\u{1F600}", "", "ascii again", "\uFFFD"];
      const stream = bytes(
        values.map((v, i) => `VALUE k${i} 16 ${bytes(v).length}\r\n${v}\r\n`).join("") + "END\r\n",
      );
      const read = (item: Item) => item.text ?? text(item.value);
      for (let at = 0; at <= stream.length; at++) {
        const [reply] = feed(["values"], stream, [at], { textFlags: [16], asciiText });
        assert.deepEqual(reply.items!.map(read), values, `split at ${at}`);
        for (const item of reply.items!) {
          if (item.text !== undefined) assert.equal(item.value.length, 0);
        }
      }
      const [whole] = feed(["values"], stream, [], { textFlags: [16], asciiText });
      // U+FFFD stored as such is left to the codec's strict decoder.
      assert.deepEqual(whole.items!.map((item) => item.text), [...values.slice(0, 5), undefined]);
      assert.deepEqual(whole.items![5].value, bytes("\uFFFD"));
    });

    test(`values read together are strings of their own: keeping one keeps none of the reply (${way})`, () => {
      const kept = "a value of 40 characters, kept for long.";
      const values = Array.from({ length: 31 }, (_, i) => i === 15 ? kept : "a".repeat(2000));
      const stream = bytes(
        values.map((v, i) => `VALUE k${i} 16 ${v.length}\r\n${v}\r\n`).join("") + "END\r\n",
      );
      const parser = new TextReplyParser(1 << 20, [16], asciiText);
      parser.parse("values", stream, 0, stream.length);
      collectGarbage();
      const before = process.memoryUsage().heapUsed;
      const all: unknown[] = [];
      for (let round = 0; round < 300; round++) {
        // A fresh copy of the reply each time, as a socket read would be.
        const reply = parser.parse("values", stream.slice(), 0, stream.length);
        all.push(reply!.items![15].text);
      }
      collectGarbage();
      const grown = process.memoryUsage().heapUsed - before;
      assert.ok(all.every((one) => one === kept));
      // Sharing the reply's text, each kept value would hold about 60 KB: 17 MiB.
      assert.ok(grown < 6 * 2 ** 20, `300 short values hold ${(grown / 2 ** 20).toFixed(1)} MiB`);
    });
  }

  test("a runtime's ASCII reader reads each value of an all-ASCII run from its own bytes", () => {
    const calls: string[] = [];
    const asciiText: AsciiText = {
      isAscii(bytes, from, to) {
        calls.push(`isAscii ${from}-${to}`);
        return bytes.subarray(from, to).every((b) => b < 0x80);
      },
      text(bytes, from, to) {
        calls.push(`text ${from}-${to}`);
        return text(bytes.subarray(from, to));
      },
    };
    const stream = bytes("VALUE a 16 2\r\nxy\r\nVALUE b 16 3\r\nzzz\r\nEND\r\n");
    const [reply] = feed(["values"], stream, [], { textFlags: [16], asciiText });
    assert.deepEqual(reply.items!.map((i) => i.text), ["xy", "zzz"]);
    // The run is from the first value's first byte to the last value's last.
    assert.deepEqual(calls, ["isAscii 14-35", "text 14-16", "text 32-35"]);
  });

  test("Deno, Bun and Node read ASCII natively, in the text decoder", () => {
    for (const name of ["deno", "bun", "node"] as const) assert.ok(asciiTextFor(name), name);
    assert.equal(asciiTextFor("workers"), undefined);
  });

  test("a text item read on its own is text when it is valid UTF-8 without U+FFFD", () => {
    const item = (data: Uint8Array) => {
      const head = bytes(`VALUE k 16 ${data.length}\r\n`);
      const stream = new Uint8Array([...head, ...data, ...bytes("\r\nEND\r\n")]);
      return feed(["values"], stream, [], { textFlags: [16] })[0].items![0];
    };
    assert.equal(item(bytes("café \u{1F600}")).text, "café \u{1F600}");
    assert.equal(item(bytes("\uFEFFbom")).text, "\uFEFFbom");
    assert.deepEqual(item(new Uint8Array([0x61, 0xff])).value, new Uint8Array([0x61, 0xff]));
    assert.equal(item(bytes("\uFFFD")).text, undefined);
  });

  test("a miss is END with no items", () => {
    const [reply] = splitEverywhere(["values"], bytes("END\r\n"));
    assert.deepEqual(reply.items, []);
  });

  test("a value containing CR LF END CR LF decodes exactly", () => {
    const value = "a\r\nEND\r\nVALUE x 0 1\r\n";
    const stream = bytes(`VALUE k 0 ${value.length}\r\n${value}\r\nEND\r\nSTORED\r\n`);
    const [reply, next] = splitEverywhere(["values", "line"], stream);
    assert.equal(text(reply.items![0].value), value);
    assert.equal(next.status, Status.STORED);
  });

  test("a 1 MiB value decodes exactly from chunks of any size", () => {
    const value = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 0xff);
    const head = bytes(`VALUE big 0 ${value.length}\r\n`);
    const stream = new Uint8Array([...head, ...value, ...bytes("\r\nEND\r\n")]);
    for (const step of [1000, 65536, 300000]) {
      const cuts = [];
      for (let at = step; at < stream.length; at += step) cuts.push(at);
      const [reply] = feed(["values"], stream, cuts);
      assert.deepEqual(reply.items![0].value, value);
    }
  });

  test("stats replies carry name/value pairs", () => {
    const [reply] = splitEverywhere(
      ["stats"],
      bytes("STAT pid 1\r\nSTAT version 1.6.18\r\nEND\r\n"),
    );
    assert.deepEqual(reply.stats, [["pid", "1"], ["version", "1.6.18"]]);
  });

  test("an error line ends a values or stats reply", () => {
    assert.equal(splitEverywhere(["stats"], bytes("ERROR\r\n"))[0].status, Status.ERROR);
    const [reply] = splitEverywhere(["values"], bytes("SERVER_ERROR busy\r\n"));
    assert.equal(reply.status, Status.SERVER_ERROR);
  });

  test("several replies in one chunk are each returned in order", () => {
    const stream = bytes("STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\nDELETED\r\n5\r\n");
    const replies = splitEverywhere(["line", "values", "line", "line"], stream);
    assert.deepEqual(replies.map((r) => r.status), [
      Status.STORED,
      Status.END,
      Status.DELETED,
      Status.SUCCESS,
    ]);
  });

  test("a reply is returned as soon as it is complete, without waiting for more", () => {
    const parser = new TextReplyParser(100);
    const stream = bytes("END\r\n");
    assert.equal(parser.parse("values", stream, 0, stream.length)?.status, Status.END);
    assert.equal(parser.used, 5);
  });

  test("an item larger than maxValueSize is a protocol error before its data arrives", () => {
    const [reply] = feed(["values"], bytes("VALUE k 0 1025\r\n"), [], { max: 1024 });
    assert.equal(reply.status, Status.PROTOCOL_ERROR);
    assert.match(reply.line, /larger than maxValueSize/);
  });

  test("a line longer than the limit without CR LF is a protocol error", () => {
    const [reply] = feed(["line"], bytes("X".repeat(MAX_LINE + 1)), []);
    assert.equal(reply.status, Status.PROTOCOL_ERROR);
  });

  test("malformed replies are protocol errors", () => {
    const cases = [
      "VALUE k 0\r\n",
      "VALUE k x 1\r\nv\r\nEND\r\n",
      "VALUE k 0 1 \r\nv\r\nEND\r\n",
      "VALUE k 0 1 1 1\r\nv\r\nEND\r\n",
      "VALUE k 0 1\r\nvv\r\nEND\r\n",
      "VALUE k 0 1\r\nv\r\nSTORED\r\n",
      "STORED\rX",
      "VALUE k 0 99999999999\r\n",
      "VALUE k 4294967296 1\r\nv\r\nEND\r\n",
      "VALUE k 0 1\rXv\r\nEND\r\n",
    ];
    for (const stream of cases) {
      for (const keys of [undefined, [bytes("k")]]) {
        const [reply] = feed(["values"], bytes(stream), [], { keys });
        assert.equal(reply?.status, Status.PROTOCOL_ERROR, JSON.stringify(stream));
      }
    }
  });

  test("random bytes end in replies or a protocol error, never a stall past the line limit", () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let round = 0; round < 2000; round++) {
      const length = Math.floor(random() * 64);
      const words = ["VALUE ", "END", "\r\n", "STAT ", " 1 ", "STORED", "x"];
      const parts: number[] = [];
      while (parts.length < length) {
        if (random() < 0.5) parts.push(...bytes(words[Math.floor(random() * words.length)]));
        else parts.push(Math.floor(random() * 256));
      }
      const stream = new Uint8Array(parts);
      const parser = new TextReplyParser(16);
      const expect = (["line", "values", "stats"] as const)[round % 3];
      let start = 0;
      for (let step = 0; step <= stream.length && start < stream.length; step++) {
        const reply = parser.parse(expect, stream, start, stream.length);
        start += parser.used;
        if (!reply || reply.status === Status.PROTOCOL_ERROR) break;
      }
      assert.ok(stream.length - start <= 16 + MAX_LINE, `seed round ${round}`);
    }
  });
});
