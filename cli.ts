#!/usr/bin/env node
/**
 * `seed-memcached`, the command line: the everyday jobs of libmemcached's
 * tools (memcat, memcp, memrm, memtouch, memstat, memflush, memping,
 * memdump) on Deno, Bun and Node.
 *
 * ```sh
 * deno run -A jsr:@seed/memcached/cli get user:1 --servers cache-1,cache-2
 * npx seed-memcached stats --json
 * ```
 *
 * Exit codes: 0 done; 1 a negative answer (a miss, not stored, not found);
 * 2 a usage error; 3 a failure (connection, server, authentication, TLS),
 * reported with its error class, e.g. `ConnectionError: get "k" on …`.
 *
 * @module
 */
import { readFile, realpath } from "node:fs/promises";
import { basename } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  BadKeyProvided,
  type CallOptions,
  Client,
  type ClientOptions,
  InvalidArguments,
  InvalidHostProtocolError,
  NotFound,
} from "./mod.ts";

/** What the command line reads and writes, so that it can run anywhere and be tested. */
export interface CliIO {
  /** The arguments after the program name. */
  args: string[];
  /** An environment variable. */
  env(name: string): string | undefined;
  /** Writes to standard output. */
  stdout(chunk: string | Uint8Array): void;
  /** Writes to standard error. */
  stderr(text: string): void;
  /** Whether standard error is a terminal (for the progress bar). */
  terminal: boolean;
}

const USAGE = `Usage: seed-memcached <command> [arguments] [options]

Commands:
  get <key>...               print values (memcat)
  set <key> <value>          store a value; --file <path> stores a file's bytes
  cp <file>...               store files under their names (memcp), with a progress bar
  delete <key>...            delete keys (memrm)
  touch <key> <ttl>          set a key's ttl in seconds (memtouch)
  incr <key> [delta]         add to a counter and print it; decr subtracts
  stats [group]              server statistics (memstat)
  flush                      invalidate every item (memflush); --delay <s>
  ping                       check every server answers, with the round trip (memping)
  version                    every server's version
  dump                       list the keys each server holds (memdump)

Options:
  --servers <list>           comma-separated servers (default $MEMCACHED_SERVERS or 127.0.0.1:11211)
  --json                     print JSON
  --ttl <s>                  ttl for set and cp (default 0: never)
  --prefix <text>            key prefix for cp (default none)
  --timeout <ms>             per request (default 5000)
  --protocol <p>             auto, meta, text or binary
  --username <name>          authenticate (password from $MEMCACHED_PASSWORD)
  --tls                      speak TLS; --ca <file> trusts a private CA
  --progress                 show the progress bar even when stderr is not a terminal
  --help                     this text

Exit codes: 0 done, 1 a miss or not stored/found, 2 usage error, 3 failure.`;

/** A usage error: exit code 2. */
class Usage extends globalThis.Error {}

const utf8 = new TextEncoder();

/** Runs one command; resolves with the exit code. */
export async function main(io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: io.args,
      allowPositionals: true,
      options: {
        servers: { type: "string" },
        json: { type: "boolean" },
        ttl: { type: "string" },
        prefix: { type: "string" },
        file: { type: "string" },
        delay: { type: "string" },
        timeout: { type: "string" },
        protocol: { type: "string" },
        username: { type: "string" },
        tls: { type: "boolean" },
        ca: { type: "string" },
        progress: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    io.stderr(`seed-memcached: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values: o, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (o.help || !command) {
    (o.help ? io.stdout : io.stderr)(USAGE + "\n");
    return o.help ? 0 : 2;
  }
  let client: Client | undefined;
  try {
    const servers = (o.servers ?? io.env("MEMCACHED_SERVERS") ?? "127.0.0.1:11211").split(",");
    const options: ClientOptions = {
      timeout: number(o.timeout, "--timeout") ?? 5000,
      protocol: o.protocol as ClientOptions["protocol"],
    };
    if (o.username !== undefined) {
      options.username = o.username;
      options.password = io.env("MEMCACHED_PASSWORD") ?? "";
    }
    if (o.tls || o.ca) options.tls = o.ca ? { ca: await readFile(o.ca, "utf8") } : true;
    client = new Client(servers, options);
    if (!Object.hasOwn(COMMANDS, command)) {
      throw new Usage(`unknown command ${JSON.stringify(command)}`);
    }
    return await COMMANDS[command](client, rest, o, io, options);
  } catch (err) {
    if (err instanceof Usage) {
      io.stderr(`seed-memcached: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    const name = err instanceof globalThis.Error ? err.name : "Error";
    const message = err instanceof globalThis.Error ? err.message : String(err);
    io.stderr(`seed-memcached: ${name}: ${message}\n`);
    const usage = err instanceof InvalidArguments || err instanceof InvalidHostProtocolError ||
      err instanceof BadKeyProvided || err instanceof TypeError;
    return usage ? 2 : err instanceof NotFound ? 1 : 3;
  } finally {
    client?.close();
  }
}

type Options = Record<string, string | boolean | undefined>;
type Command = (
  client: Client,
  args: string[],
  o: Options,
  io: CliIO,
  options: ClientOptions,
) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  async get(client, keys, o, io) {
    need(keys, 1, "get <key>...");
    const found = await client.getMulti(keys);
    if (o.json) {
      const out: Record<string, unknown> = {};
      for (const key of keys) out[key] = found.has(key) ? jsonValue(found.get(key)) : null;
      io.stdout(JSON.stringify(out) + "\n");
    } else {
      for (const key of keys) {
        if (!found.has(key)) continue;
        if (keys.length > 1) io.stdout(`${key}: `);
        const value = found.get(key);
        // Bytes are written as stored, so that `set --file` then `get`
        // round-trips; text ends with a newline, as a terminal wants.
        if (value instanceof Uint8Array) io.stdout(value);
        else io.stdout(text(value) + "\n");
        if (value instanceof Uint8Array && keys.length > 1) io.stdout("\n");
      }
    }
    const missing = keys.filter((key) => !found.has(key));
    for (const key of missing) io.stderr(`seed-memcached: miss: ${key}\n`);
    return missing.length ? 1 : 0;
  },

  async set(client, args, o, io) {
    const [key, value] = args;
    if (!key || (value === undefined) === (o.file === undefined) || args.length > 2) {
      throw new Usage("set <key> <value>, or set <key> --file <path>");
    }
    const bytes = o.file === undefined ? value : await readFile(String(o.file));
    const stored = await client.set(
      key,
      bytes instanceof Uint8Array ? new Uint8Array(bytes) : bytes,
      {
        ttl: number(o.ttl, "--ttl"),
      },
    );
    return report(io, o, { stored }, stored);
  },

  async cp(client, files, o, io) {
    need(files, 1, "cp <file>...");
    const bar = progress(
      io,
      files.length,
      o.progress === true || (io.terminal && files.length > 1),
    );
    const failed: Record<string, string> = {};
    let bytes = 0;
    for (const file of files) {
      const key = `${o.prefix ?? ""}${basename(file)}`;
      try {
        const data = new Uint8Array(await readFile(file));
        if (!await client.set(key, data, { ttl: number(o.ttl, "--ttl") })) {
          failed[file] = "not stored";
        }
        bytes += data.length;
      } catch (err) {
        if (err instanceof Usage) throw err;
        failed[file] = `${(err as Error).name}: ${(err as Error).message}`;
      }
      bar.step(bytes);
    }
    bar.done();
    const stored = files.length - Object.keys(failed).length;
    for (const [file, why] of Object.entries(failed)) {
      io.stderr(`seed-memcached: ${file}: ${why}\n`);
    }
    return report(
      io,
      o,
      { stored, failed },
      stored === files.length,
      `stored ${stored} of ${files.length} files`,
    );
  },

  async delete(client, keys, o, io) {
    need(keys, 1, "delete <key>...");
    const results: Record<string, boolean> = {};
    for (const key of keys) results[key] = await client.delete(key);
    const missing = keys.filter((key) => !results[key]);
    for (const key of missing) io.stderr(`seed-memcached: not found: ${key}\n`);
    return report(io, o, results, missing.length === 0, `deleted ${keys.length - missing.length}`);
  },

  async touch(client, args, o, io) {
    const [key, ttl] = args;
    if (!key || ttl === undefined || args.length > 2) throw new Usage("touch <key> <ttl>");
    const touched = await client.touch(key, number(ttl, "ttl")!);
    if (!touched) io.stderr(`seed-memcached: not found: ${key}\n`);
    return report(io, o, { touched }, touched);
  },

  incr: (client, args, o, io) => count(client, args, o, io, "incr"),
  decr: (client, args, o, io) => count(client, args, o, io, "decr"),

  async stats(client, args, o, io) {
    if (args.length > 1) throw new Usage("stats [group]");
    const stats = await client.stats(args[0], call(o));
    if (o.json) return print(io, Object.fromEntries(stats));
    for (const [server, values] of stats) {
      io.stdout(`${server}\n`);
      for (const [name, value] of Object.entries(values)) io.stdout(`  ${name} ${value}\n`);
    }
    return 0;
  },

  async flush(client, args, o, io) {
    if (args.length) throw new Usage("flush [--delay <s>]");
    const done = await client.flushAll({ delay: number(o.delay, "--delay") });
    return report(io, o, Object.fromEntries(done), true, `flushed ${done.size} servers`);
  },

  async ping(client, args, o, io, options) {
    if (args.length) throw new Usage("ping");
    const results: Record<string, { ok: boolean; ms?: number; version?: string; error?: string }> =
      {};
    await Promise.all(client.servers.map(async (server) => {
      // One client per server, so that each answers (or fails) on its own.
      const one = new Client(server, options);
      const started = performance.now();
      try {
        const version = [...(await one.version()).values()][0];
        results[server] = {
          ok: true,
          ms: Math.round((performance.now() - started) * 10) / 10,
          version,
        };
      } catch (err) {
        results[server] = { ok: false, error: `${(err as Error).name}: ${(err as Error).message}` };
      } finally {
        one.close();
      }
    }));
    const ok = Object.values(results).every((r) => r.ok);
    if (o.json) print(io, results);
    else {
      for (const [server, r] of Object.entries(results)) {
        io.stdout(
          r.ok
            ? `${server} ok ${r.ms} ms (memcached ${r.version})\n`
            : `${server} FAILED ${r.error}\n`,
        );
      }
    }
    return ok ? 0 : 3;
  },

  async version(client, args, o, io) {
    if (args.length) throw new Usage("version");
    const versions = await client.version(call(o));
    if (o.json) return print(io, Object.fromEntries(versions));
    for (const [server, version] of versions) io.stdout(`${server} ${version}\n`);
    return 0;
  },

  async dump(client, args, o, io) {
    if (args.length) throw new Usage("dump");
    const dump = await client.listKeys(call(o));
    if (o.json) {
      const out: Record<string, unknown> = {};
      for (const [server, entries] of dump) {
        out[server] = entries.map((entry) => ({ ...entry, cas: String(entry.cas) }));
      }
      return print(io, out);
    }
    for (const entries of dump.values()) for (const entry of entries) io.stdout(`${entry.key}\n`);
    return 0;
  },
};

async function count(client: Client, args: string[], o: Options, io: CliIO, verb: "incr" | "decr") {
  const [key, delta] = args;
  if (!key || args.length > 2) throw new Usage(`${verb} <key> [delta]`);
  if (delta !== undefined && !/^\d+$/.test(delta)) throw new Usage("delta must be a whole number");
  const value = await client[verb](key, BigInt(delta ?? 1));
  if (o.json) return print(io, { [key]: String(value) });
  io.stdout(`${value}\n`);
  return 0;
}

function call(o: Options): CallOptions {
  return { timeout: number(o.timeout, "--timeout") };
}

function need(args: string[], least: number, usage: string): void {
  if (args.length < least) throw new Usage(usage);
}

function number(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^\d+$/.test(value)) {
    throw new Usage(`${name} must be a whole number, not ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function print(io: CliIO, value: unknown): number {
  io.stdout(JSON.stringify(value) + "\n");
  return 0;
}

function report(io: CliIO, o: Options, json: unknown, ok: boolean, said?: string): number {
  if (o.json) print(io, json);
  else if (said) io.stdout(said + "\n");
  else io.stdout(ok ? "ok\n" : "not done\n");
  return ok ? 0 : 1;
}

function text(value: unknown): string {
  return typeof value === "string"
    ? value
    : JSON.stringify(value, (_, v) => typeof v === "bigint" ? String(v) : v);
}

/** A value as JSON can carry it: bytes become `{ base64 }`. */
function jsonValue(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    let binary = "";
    for (const byte of value) binary += String.fromCharCode(byte);
    return { base64: btoa(binary) };
  }
  return typeof value === "bigint" ? String(value) : value;
}

/** A progress bar on standard error, redrawn in place. */
function progress(io: CliIO, total: number, shown: boolean) {
  let n = 0;
  const draw = (bytes: number) => {
    const width = 30;
    const filled = Math.round((n / total) * width);
    const size = bytes >= 1 << 20
      ? `${(bytes / (1 << 20)).toFixed(1)} MiB`
      : `${Math.round(bytes / 1024)} KiB`;
    io.stderr(
      `\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${n}/${total} files, ${size}`,
    );
  };
  return {
    step(bytes: number) {
      n++;
      if (shown) draw(bytes);
    },
    done() {
      if (shown) io.stderr("\n");
    },
  };
}

/** Whether this module is the program being run (Deno, Bun and Node differ in how they say so). */
async function isMain(): Promise<boolean> {
  const meta = import.meta as { main?: boolean };
  if (meta.main !== undefined) return meta.main;
  const script = process.argv[1];
  if (!script) return false;
  try {
    return pathToFileURL(await realpath(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (await isMain()) {
  // A reader that stops early (`| head`) is not an error.
  process.stdout.on("error", (err: { code?: string }) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  });
  const code = await main({
    args: process.argv.slice(2),
    env: (name) => process.env[name],
    stdout: (chunk) => process.stdout.write(typeof chunk === "string" ? utf8.encode(chunk) : chunk),
    stderr: (text) => process.stderr.write(text),
    terminal: process.stderr.isTTY === true,
  });
  process.exitCode = code;
}
