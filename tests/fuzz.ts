/**
 * Fuzzing of the reply decoders, text and meta replies alike, and binary
 * responses: random bytes and valid reply streams
 * mutated (truncated, bytes flipped, huge announced lengths, CR dropped,
 * junk added), fed in random chunks the way a connection feeds them.
 *
 * Every input must end in replies or a PROTOCOL_ERROR, in a bounded number
 * of steps, with the unparsed tail never longer than one item plus a line.
 * A text decoder told the keys asked for and text flags (the client's
 * fast paths) must read every input exactly as a plain one does.
 *
 * `deno task fuzz` runs 100,000 cases; `deno task fuzz --cases N --seed S`
 * replays or extends a run. fuzz_test.ts runs a few thousand in the suite.
 *
 * @module
 */
import { Connection } from "../connection/mod.ts";
import { Status } from "../protocol/status.ts";
import type { SocketEvents } from "../transport/types.ts";
import { BinaryReplyParser } from "../protocol/binary.ts";
import { keyBytes, type SentKey } from "../protocol/keys.ts";
import type { MetaReply } from "../protocol/meta.ts";
import type { Expect, Item, Reply } from "../protocol/reply.ts";
import { MAX_LINE, TextReplyParser } from "../protocol/text_parser.ts";

/** The item size limit the fuzzed parser runs with. */
export const MAX_VALUE = 1024;

/** A small seeded generator (mulberry32), so that every case can be replayed from its seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const utf8 = new TextEncoder();

/** The flags whose items the keyed decoder reads as text. */
const TEXT_FLAG = 16;

/**
 * The keys a stream's VALUE lines name, with a key no line names after each:
 * what a get asked for. Printable ASCII keys alternate between bytes and
 * strings, the two ways a key is sent.
 */
function askedKeys(bytes: Uint8Array): SentKey[] {
  const text = String.fromCharCode(...bytes);
  return [...text.matchAll(/VALUE (\S+) /g)].flatMap(([, key], i) => [
    i % 2 === 1 && /^[!-~]+$/.test(key) ? key : Uint8Array.from(key, (c) => c.charCodeAt(0)),
    "missing",
  ]);
}

/** A reply with its items' and meta replies' data as plain strings, whichever way the decoder gave them. */
function plainReply(reply: Reply | undefined): unknown {
  if (!reply) return undefined;
  const data = (text: string | undefined, value: Uint8Array | undefined) =>
    String.fromCharCode(...(text === undefined ? value ?? [] : utf8.encode(text)));
  const plain = (item: Item) => ({
    key: String.fromCharCode(...keyBytes(item.key)),
    flags: item.flags,
    data: data(item.text, item.value),
    cas: item.cas,
  });
  const plainMeta = ({ text, value, ...meta }: MetaReply) => ({ ...meta, data: data(text, value) });
  return {
    ...reply,
    items: reply.items?.map(plain),
    meta: reply.meta && plainMeta(reply.meta),
    metas: reply.metas?.map(plainMeta),
  };
}

/** A valid reply of the kind `expect`, made from `rnd`. */
function validReply(expect: Expect, rnd: () => number): string {
  const word = () => "k" + Math.floor(rnd() * 1e6).toString(36);
  if (expect === "values") {
    let reply = "";
    for (let n = Math.floor(rnd() * 4); n > 0; n--) {
      const value = "x\r\nEND\r\n".slice(0, Math.floor(rnd() * 9)) + "v".repeat(rnd() * 50) +
        (rnd() < 0.2 ? "é" : "");
      const cas = rnd() < 0.5 ? ` ${Math.floor(rnd() * 1e9)}` : "";
      const flags = rnd() < 0.5 ? TEXT_FLAG : Math.floor(rnd() * 2 ** 32);
      reply += `VALUE ${word()} ${flags} ${utf8.encode(value).length}${cas}\r\n${value}\r\n`;
    }
    return reply + "END\r\n";
  }
  if (expect === "meta" || expect === "metaBatch") {
    const one = () => {
      const pick = rnd();
      const opaque = ` O${Math.floor(rnd() * 1e6)}`;
      if (pick < 0.4) {
        const value = "v\r\nHD\r\n".slice(0, Math.floor(rnd() * 8)) + "x".repeat(rnd() * 40) +
          (rnd() < 0.2 ? "é" : "");
        return `VA ${utf8.encode(value).length} f${
          rnd() < 0.5 ? TEXT_FLAG : Math.floor(rnd() * 99)
        } c${Math.floor(rnd() * 1e9)}${opaque}\r\n${value}\r\n`;
      }
      return ["HD", "EN", "NS", "EX", "NF"][Math.floor(rnd() * 5)] + opaque + "\r\n";
    };
    if (expect === "meta") return one();
    let reply = "";
    for (let n = Math.floor(rnd() * 4); n > 0; n--) reply += one();
    return reply + "MN\r\n";
  }
  if (expect === "dump") {
    let reply = "";
    for (let n = Math.floor(rnd() * 5); n > 0; n--) {
      reply += `key=${word()}%20x exp=-1 la=${Math.floor(rnd() * 1e9)} cas=${
        Math.floor(rnd() * 1e9)
      } fetch=no cls=1 size=${Math.floor(rnd() * 1e4)}\n`;
    }
    return reply + "END\r\n";
  }
  if (expect === "stats") {
    let reply = "";
    for (let n = Math.floor(rnd() * 5); n > 0; n--) reply += `STAT ${word()} ${word()}\r\n`;
    return reply + "END\r\n";
  }
  const lines = [
    "STORED",
    "NOT_STORED",
    "EXISTS",
    "NOT_FOUND",
    "DELETED",
    "TOUCHED",
    "OK",
    "ERROR",
  ];
  const pick = rnd();
  if (pick < 0.2) return `${Math.floor(rnd() * 2 ** 53)}\r\n`;
  if (pick < 0.3) return "VERSION 1.6.18\r\n";
  if (pick < 0.4) return "CLIENT_ERROR bad data chunk\r\n";
  return lines[Math.floor(rnd() * lines.length)] + "\r\n";
}

/** A case: the kinds of reply expected, in order, and the bytes that arrive. */
export interface Case {
  expects: Expect[];
  bytes: Uint8Array;
}

/** One binary response packet. */
function packet(
  opcode: number,
  status: number,
  parts: { key?: Uint8Array; extras?: Uint8Array; value?: Uint8Array; opaque?: number },
): Uint8Array {
  const key = parts.key ?? new Uint8Array(0);
  const extras = parts.extras ?? new Uint8Array(0);
  const value = parts.value ?? new Uint8Array(0);
  const out = new Uint8Array(24 + extras.length + key.length + value.length);
  const view = new DataView(out.buffer);
  out[0] = 0x81;
  out[1] = opcode;
  view.setUint16(2, key.length);
  out[4] = extras.length;
  view.setUint16(6, status);
  view.setUint32(8, extras.length + key.length + value.length);
  view.setUint32(12, parts.opaque ?? 0);
  out.set(extras, 24);
  out.set(key, 24 + extras.length);
  out.set(value, 24 + extras.length + key.length);
  return out;
}

/** A valid binary response stream for the kind `expect`, made from `rnd`. */
function validBinaryReply(expect: Expect, rnd: () => number): Uint8Array[] {
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
  const status = () =>
    rnd() < 0.6 ? 0 : [1, 2, 3, 4, 5, 6, 0x20, 0x81, 0x82][Math.floor(rnd() * 9)];
  const one = (quiet: boolean) => {
    const opcode = quiet
      ? [0x0d, 0x11, 0x14, 0x24][Math.floor(rnd() * 4)]
      : [0x00, 0x01, 0x04, 0x05, 0x1c, 0x1d][Math.floor(rnd() * 6)];
    const hit = opcode === 0x00 || opcode === 0x0d || opcode === 0x1d || opcode === 0x24;
    return packet(opcode, status(), {
      key: opcode === 0x0d || opcode === 0x24 ? bytes(1 + Math.floor(rnd() * 20)) : undefined,
      extras: hit ? bytes(4) : undefined,
      value: opcode === 0x05 ? bytes(8) : bytes(Math.floor(rnd() * 60)),
      opaque: Math.floor(rnd() * 2 ** 32),
    });
  };
  if (expect === "meta") return [one(false)];
  if (expect === "metaBatch") {
    const out = Array.from({ length: Math.floor(rnd() * 4) }, () => one(true));
    return [...out, packet(0x0a, 0, {})];
  }
  if (expect === "stats") {
    const out = Array.from(
      { length: Math.floor(rnd() * 5) },
      () => packet(0x10, 0, { key: bytes(1 + Math.floor(rnd() * 10)), value: bytes(rnd() * 10) }),
    );
    return [...out, packet(0x10, rnd() < 0.9 ? 0 : 1, {})];
  }
  return [
    packet([0x0b, 0x08, 0x21][Math.floor(rnd() * 3)], status(), { value: bytes(rnd() * 20) }),
  ];
}

/** The binary case of a seed: random bytes, or a valid stream with one mutation. */
export function makeBinaryCase(seed: number): Case {
  const rnd = random(seed);
  const kinds: Expect[] = ["line", "stats", "meta", "metaBatch"];
  const expects = Array.from(
    { length: 1 + Math.floor(rnd() * 5) },
    () => kinds[Math.floor(rnd() * kinds.length)],
  );
  if (rnd() < 0.2) {
    const bytes = Uint8Array.from(
      { length: Math.floor(rnd() * 200) },
      () => Math.floor(rnd() * 256),
    );
    if (bytes.length && rnd() < 0.5) bytes[0] = 0x81;
    return { expects, bytes };
  }
  const packets = expects.flatMap((expect) => validBinaryReply(expect, rnd));
  const at = Math.floor(rnd() * packets.length);
  const target = packets[at];
  const view = new DataView(target.buffer);
  switch (Math.floor(rnd() * 5)) {
    case 0: // truncated stream
      packets.splice(at + 1);
      packets[at] = target.slice(0, Math.floor(rnd() * target.length));
      break;
    case 1: // a huge announced body
      view.setUint32(8, Math.floor(rnd() * 2 ** 32));
      break;
    case 2: // key and extras longer than the body
      view.setUint16(2, Math.floor(rnd() * 65536));
      break;
    case 3: // junk between packets
      packets.splice(
        at,
        0,
        Uint8Array.from({ length: 1 + Math.floor(rnd() * 30) }, () => Math.floor(rnd() * 256)),
      );
      break;
  }
  let length = 0;
  for (const p of packets) length += p.length;
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const p of packets) {
    bytes.set(p, offset);
    offset += p.length;
  }
  if (rnd() < 0.5 && bytes.length > 0) {
    bytes[Math.floor(rnd() * bytes.length)] ^= 1 << Math.floor(rnd() * 8);
  }
  return { expects, bytes };
}

/** The case of a seed: random bytes, or a valid stream with one mutation. */
export function makeCase(seed: number): Case {
  const rnd = random(seed);
  const kinds: Expect[] = ["line", "values", "stats", "meta", "metaBatch", "dump"];
  const expects = Array.from(
    { length: 1 + Math.floor(rnd() * 5) },
    () => kinds[Math.floor(rnd() * kinds.length)],
  );
  if (rnd() < 0.25) {
    const bytes = new Uint8Array(Math.floor(rnd() * 200));
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rnd() * 256);
    return { expects, bytes };
  }
  let text = expects.map((expect) => validReply(expect, rnd)).join("");
  const at = Math.floor(rnd() * (text.length + 1));
  switch (Math.floor(rnd() * 6)) {
    case 0: // truncated
      text = text.slice(0, at);
      break;
    case 1: // a huge announced length
      text = text.replace(/VALUE (\S+) (\d+) \d+/, `VALUE $1 $2 ${Math.floor(rnd() * 2 ** 40)}`);
      break;
    case 2: // a CR dropped
      text = text.slice(0, at) + text.slice(at).replace("\r", "");
      break;
    case 3: // junk added
      text = text.slice(0, at) + "JUNK\x00\xff" + text.slice(at);
      break;
    case 4: // a long line
      text = text.slice(0, at) + "X".repeat(MAX_LINE + 10) + text.slice(at);
      break;
  }
  const bytes = utf8.encode(text);
  if (rnd() < 0.5 && bytes.length > 0) {
    bytes[Math.floor(rnd() * bytes.length)] ^= 1 << Math.floor(rnd() * 8);
  }
  return { expects, bytes };
}

const bigints = (_: string, value: unknown) => typeof value === "bigint" ? `${value}n` : value;

/** What feeding a case produced. */
export interface Outcome {
  replies: number;
  protocolError: boolean;
  steps: number;
  largestTail: number;
}

/**
 * Feeds a case in random chunks and checks the decoder's promises; throws,
 * naming the seed, when one is broken.
 */
export function runCase(seed: number, binary = false): Outcome {
  const { expects, bytes } = binary ? makeBinaryCase(seed) : makeCase(seed);
  const rnd = random(seed ^ 0x5bd1e995);
  const parser = binary ? new BinaryReplyParser(MAX_VALUE) : new TextReplyParser(MAX_VALUE);
  const keyed = new TextReplyParser(MAX_VALUE, [TEXT_FLAG]);
  const keys = binary ? [] : askedKeys(bytes);
  const outcome: Outcome = { replies: 0, protocolError: false, steps: 0, largestTail: 0 };
  const stepLimit = 4 * (bytes.length + 10) * (expects.length + 1);
  let tail = new Uint8Array(0);
  let at = 0;
  while (at < bytes.length && !outcome.protocolError && outcome.replies < expects.length) {
    const size = 1 + Math.floor(rnd() * 64);
    const chunk = bytes.subarray(at, at + size);
    at += chunk.length;
    const buf = new Uint8Array(tail.length + chunk.length);
    buf.set(tail);
    buf.set(chunk, tail.length);
    let start = 0;
    while (start < buf.length && outcome.replies < expects.length) {
      if (++outcome.steps > stepLimit) {
        throw new Error(`seed ${seed}: more than ${stepLimit} steps`);
      }
      const reply = parser.parse(expects[outcome.replies], buf, start, buf.length);
      if (parser.used < 0 || start + parser.used > buf.length) {
        throw new Error(`seed ${seed}: used ${parser.used} bytes of ${buf.length - start}`);
      }
      if (!binary) {
        const other = keyed.parse(expects[outcome.replies], buf, start, buf.length, keys);
        if (
          keyed.used !== parser.used ||
          JSON.stringify(plainReply(other), bigints) !== JSON.stringify(plainReply(reply), bigints)
        ) {
          throw new Error(`seed ${seed}: keys and text flags change what is decoded`);
        }
      }
      start += parser.used;
      if (!reply) break;
      if (!(reply.status in Status)) {
        throw new Error(`seed ${seed}: unknown status ${reply.status}`);
      }
      if (reply.status === Status.PROTOCOL_ERROR) {
        outcome.protocolError = true;
        break;
      }
      outcome.replies++;
    }
    tail = buf.slice(start);
    outcome.largestTail = Math.max(outcome.largestTail, tail.length);
    if (tail.length > (binary ? MAX_VALUE + 24 + 250 + 255 : MAX_VALUE + MAX_LINE + 2)) {
      throw new Error(`seed ${seed}: ${tail.length} bytes held while waiting`);
    }
  }
  return outcome;
}

/**
 * Feeds a case to a real Connection through a scripted socket, then closes
 * the socket: every request must settle, with a reply or an error.
 */
export async function runConnectionCase(
  seed: number,
  binary = false,
): Promise<{ ok: number; failed: number }> {
  const { expects, bytes } = binary ? makeBinaryCase(seed) : makeCase(seed);
  const rnd = random(seed ^ 0x1b873593);
  let events: SocketEvents | undefined;
  const connection = new Connection({ kind: "tcp", host: "fuzz", port: 1 }, {
    connectTimeout: 1000,
    maxValueSize: MAX_VALUE,
    socket: { noDelay: true, keepAlive: false },
    stallTimeout: 1000,
    binary,
    connector: (_address, socketEvents) => {
      events = socketEvents;
      return Promise.resolve({ write: () => Promise.resolve(), close: () => {} });
    },
  });
  const requests = expects.map((expect) =>
    connection.request({
      encode: (w) => w.ascii("x\r\n"),
      expect,
      operation: "fuzz",
      timeout: Infinity,
    })
  );
  for (let i = 0; i < 10 && !events; i++) await Promise.resolve();
  await new Promise((resolve) => setTimeout(resolve, 0));
  if (!events) throw new Error(`seed ${seed}: the connection never connected`);
  for (let at = 0; at < bytes.length;) {
    const size = 1 + Math.floor(rnd() * 64);
    events.data(bytes.slice(at, at + size));
    at += size;
  }
  events.closed();
  const outcomes = await Promise.race([
    Promise.allSettled(requests),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`seed ${seed}: a request never settled`)), 1000)
    ),
  ]);
  connection.close();
  const ok = outcomes.filter((o) => o.status === "fulfilled").length;
  return { ok, failed: outcomes.length - ok };
}

/** Runs `cases` cases from `seed` on; returns how they ended. */
export function fuzz(
  cases: number,
  seed: number,
  binary = false,
): { replies: number; protocolErrors: number } {
  let replies = 0;
  let protocolErrors = 0;
  for (let n = 0; n < cases; n++) {
    const outcome = runCase(seed + n, binary);
    replies += outcome.replies;
    if (outcome.protocolError) protocolErrors++;
  }
  return { replies, protocolErrors };
}

if ((import.meta as { main?: boolean }).main) {
  const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? [];
  const option = (name: string, fallback: number) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? Number(args[at + 1]) : fallback;
  };
  const cases = option("cases", 100_000);
  const seed = option("seed", 1);
  for (const binary of [false, true]) {
    const started = performance.now();
    const { replies, protocolErrors } = fuzz(cases, seed, binary);
    console.log(
      `${binary ? "binary" : "text and meta"}: ${cases} cases from seed ${seed}: ` +
        `${replies} replies, ${protocolErrors} protocol errors, ` +
        `${Math.round(performance.now() - started)} ms, no hang, no crash, buffers bounded`,
    );
  }
}
