/**
 * Each operation on the wire, per protocol, without a server: a scripted
 * socket records the exact bytes the client writes and answers with a
 * scripted reply, and the test shows what the call makes of it. The
 * behaviour against real memcached is in the other suites.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Client, type Connector } from "../mod.ts";

const enc = new TextEncoder();

/** A connector whose one socket answers each write with `answer(bytes written)`. */
function scripted(answer: (request: Uint8Array) => Uint8Array) {
  const written: Uint8Array[] = [];
  const connector: Connector = (_address, events) =>
    Promise.resolve({
      write(bytes: Uint8Array) {
        const request = bytes.slice();
        written.push(request);
        queueMicrotask(() => events.data(answer(request)));
        return Promise.resolve();
      },
      close() {},
    });
  return { connector, written };
}

/** A binary-protocol response to `request`, echoing its opcode and opaque. */
function packet(
  request: Uint8Array,
  { status = 0, extras = [] as number[], value = "", cas = 0n } = {},
): Uint8Array {
  const body = [...extras, ...enc.encode(value)];
  const out = new Uint8Array(24 + body.length);
  const view = new DataView(out.buffer);
  out[0] = 0x81;
  out[1] = request[1];
  out[4] = extras.length;
  view.setUint16(6, status);
  view.setUint32(8, body.length);
  out.set(request.subarray(12, 16), 12);
  view.setBigUint64(16, cas);
  out.set(body, 24);
  return out;
}

/** `bytes` as text when it is printable, else as hex. */
function shown(bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes);
  return /^[\x20-\x7e\r\n]*$/.test(text)
    ? text
    : [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

interface Case {
  name: string;
  call: (client: Client) => Promise<unknown>;
  sends: string;
  reply: (request: Uint8Array) => string | Uint8Array;
  result: unknown;
}

const SERVER = "127.0.0.1:11211";
const version = new Map([[SERVER, "1.6.18"]]);

const CASES: Record<"text" | "meta" | "binary", Case[]> = {
  text: [
    {
      name: "get",
      call: (c) => c.get("k"),
      sends: "get k\r\n",
      reply: () => "VALUE k 16 1\r\nv\r\nEND\r\n",
      result: "v",
    },
    {
      name: "gets",
      call: (c) => c.gets("k"),
      sends: "gets k\r\n",
      reply: () => "VALUE k 16 1 42\r\nv\r\nEND\r\n",
      result: { value: "v", cas: 42n },
    },
    {
      name: "set",
      call: (c) => c.set("k", "v", { ttl: 10 }),
      sends: "set k 16 10 1\r\nv\r\n",
      reply: () => "STORED\r\n",
      result: true,
    },
    {
      name: "add",
      call: (c) => c.add("k", "v"),
      sends: "add k 16 0 1\r\nv\r\n",
      reply: () => "NOT_STORED\r\n",
      result: false,
    },
    {
      name: "cas",
      call: (c) => c.cas("k", "v", 42n),
      sends: "cas k 16 0 1 42\r\nv\r\n",
      reply: () => "EXISTS\r\n",
      result: false,
    },
    {
      name: "delete",
      call: (c) => c.delete("k"),
      sends: "delete k\r\n",
      reply: () => "NOT_FOUND\r\n",
      result: false,
    },
    {
      name: "incr",
      call: (c) => c.incr("k", 5),
      sends: "incr k 5\r\n",
      reply: () => "12\r\n",
      result: 12,
    },
    {
      name: "touch",
      call: (c) => c.touch("k", 10),
      sends: "touch k 10\r\n",
      reply: () => "TOUCHED\r\n",
      result: true,
    },
    {
      name: "getMulti",
      call: async (c) => Object.fromEntries(await c.getMulti(["a", "b"])),
      sends: "get a b\r\n",
      reply: () => "VALUE a 16 1\r\n1\r\nEND\r\n",
      result: { a: "1" },
    },
    {
      name: "version",
      call: (c) => c.version(),
      sends: "version\r\n",
      reply: () => "VERSION 1.6.18\r\n",
      result: version,
    },
  ],
  meta: [
    {
      name: "get",
      call: (c) => c.get("k"),
      sends: "mg k v f O0\r\n",
      reply: () => "VA 1 f16 O0\r\nv\r\n",
      result: "v",
    },
    {
      name: "gets",
      call: (c) => c.gets("k"),
      sends: "mg k v f c O0\r\n",
      reply: () => "VA 1 f16 c42 O0\r\nv\r\n",
      result: { value: "v", cas: 42n },
    },
    {
      name: "set",
      call: (c) => c.set("k", "v", { ttl: 10 }),
      sends: "ms k 1 F16 T10 O0\r\nv\r\n",
      reply: () => "HD O0\r\n",
      result: true,
    },
    {
      name: "add",
      call: (c) => c.add("k", "v"),
      sends: "ms k 1 F16 ME O0\r\nv\r\n",
      reply: () => "NS O0\r\n",
      result: false,
    },
    {
      name: "delete",
      call: (c) => c.delete("k"),
      sends: "md k O0\r\n",
      reply: () => "NF O0\r\n",
      result: false,
    },
    {
      name: "incr",
      call: (c) => c.incr("k", 5),
      sends: "ma k MI D5 v O0\r\n",
      reply: () => "VA 2 O0\r\n12\r\n",
      result: 12,
    },
    {
      name: "touch",
      call: (c) => c.touch("k", 10),
      sends: "mg k T10 O0\r\n",
      reply: () => "EN O0\r\n",
      result: false,
    },
    {
      name: "getMulti",
      call: async (c) => Object.fromEntries(await c.getMulti(["a", "b"])),
      sends: "get a b\r\n",
      reply: () => "VALUE b 16 1\r\n2\r\nEND\r\n",
      result: { b: "2" },
    },
    {
      // Every write of a batch answers, so an ER line (which names no
      // opaque) is known by its place.
      name: "setMulti",
      call: (c) => c.setMulti({ a: "1", b: "2", c: "3" }),
      sends: "ms a 1 F16 O0\r\n1\r\nms b 1 F16 O1\r\n2\r\nms c 1 F16 O2\r\n3\r\nmn\r\n",
      reply: () => "HD O0\r\nSERVER_ERROR object too large for cache\r\nHD O2\r\nMN\r\n",
      result: ["b"],
    },
  ],
  binary: [
    {
      name: "get",
      call: (c) => c.get("k"),
      sends: "8000000100000000000000010000000000000000000000006b",
      reply: (r) => packet(r, { extras: [0, 0, 0, 16], value: "v" }),
      result: "v",
    },
    {
      name: "gets",
      call: (c) => c.gets("k"),
      sends: "8000000100000000000000010000000000000000000000006b",
      reply: (r) => packet(r, { extras: [0, 0, 0, 16], value: "v", cas: 42n }),
      result: { value: "v", cas: 42n },
    },
    {
      name: "set",
      call: (c) => c.set("k", "v", { ttl: 10 }),
      sends: "80010001080000000000000a000000000000000000000000000000100000000a6b76",
      reply: (r) => packet(r),
      result: true,
    },
    {
      name: "add",
      call: (c) => c.add("k", "v"),
      sends: "80020001080000000000000a00000000000000000000000000000010000000006b76",
      reply: (r) => packet(r, { status: 0x02 }),
      result: false,
    },
    {
      name: "delete",
      call: (c) => c.delete("k"),
      sends: "8004000100000000000000010000000000000000000000006b",
      reply: (r) => packet(r, { status: 0x01 }),
      result: false,
    },
    {
      name: "incr",
      call: (c) => c.incr("k", 5),
      sends: "8005000114000000000000150000000000000000000000000000000000000005" +
        "0000000000000000ffffffff6b",
      reply: (r) => packet(r, { value: "\0\0\0\0\0\0\0\x0c" }),
      result: 12,
    },
    {
      name: "touch",
      call: (c) => c.touch("k", 10),
      sends: "801c000104000000000000050000000000000000000000000000000a6b",
      reply: (r) => packet(r),
      result: true,
    },
    {
      name: "version",
      call: (c) => c.version(),
      sends: "800b00000000000000000000000000000000000000000000",
      reply: (r) => packet(r, { value: "1.6.18" }),
      result: version,
    },
    {
      // Quiet sets and a noop: only the refused one answers, with its opaque.
      name: "setMulti",
      call: (c) => c.setMulti({ a: "1", b: "2" }),
      sends: "80110001080000000000000a000000000000000000000000000000100000000061" +
        "31" + "80110001080000000000000a000000010000000000000000000000100000000062" +
        "32" + "800a00000000000000000000000000000000000000000000",
      reply: (r) =>
        Uint8Array.from([
          ...packet(r.subarray(34), { status: 0x03, value: "Too large." }),
          ...packet(r.subarray(68)),
        ]),
      result: ["b"],
    },
  ],
};

for (const [protocol, cases] of Object.entries(CASES)) {
  describe(`on the wire, ${protocol} protocol`, () => {
    for (const { name, call, sends, reply, result } of cases) {
      test(`${name} sends its request and reads the reply`, async () => {
        const socket = scripted((request) => {
          const answer = reply(request);
          return typeof answer === "string" ? enc.encode(answer) : answer;
        });
        await using client = new Client(SERVER, {
          protocol: protocol as "text" | "meta" | "binary",
          connector: socket.connector,
        });
        assert.deepEqual(await call(client), result);
        assert.deepEqual(socket.written.map(shown), [sends]);
      });
    }
  });
}
