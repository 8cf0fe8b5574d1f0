/**
 * Starts and stops real memcached processes for the tests: a free loopback
 * port or a Unix socket in a temporary folder.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** A running memcached. */
export interface Memcached {
  /** The server entry to give a Client: `127.0.0.1:PORT` or the socket path. */
  server: string;
  /** The TCP port, or 0 for a Unix socket. */
  port: number;
  /** Stops the process and removes its temporary folder. */
  stop(): Promise<void>;
  /** Freezes the process (SIGSTOP) and waits until it is stopped: it accepts connections but answers nothing. */
  pause(): Promise<void>;
  /** Lets a paused process run again (SIGCONT). */
  resume(): void;
}

/** How to start memcached. */
export interface StartOptions {
  /** Listen on a Unix socket instead of TCP. */
  unix?: boolean;
  /** More command-line arguments. */
  args?: string[];
  /** The TCP port; a free one by default. For restarting a server where it was. */
  port?: number;
  /** More environment variables, e.g. SASL_CONF_PATH. */
  env?: Record<string, string>;
  /**
   * Whether a plain-text `version` gets an answer. A server that speaks only
   * TLS or SASL does not: it is ready once it accepts a connection.
   */
  plainText?: boolean;
}

const INSTALL_HINT = "memcached is not installed: run `apt-get install -y memcached`";

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts a memcached and waits until it accepts connections. */
export async function startMemcached(options: StartOptions = {}): Promise<Memcached> {
  const dir = mkdtempSync(join(tmpdir(), "memcached-test-"));
  const port = options.unix ? 0 : options.port ?? await freePort();
  const path = join(dir, "memcached.sock");
  const args = [
    "-U",
    "0",
    "-m",
    "64",
    "-I",
    "2m",
    "-t",
    "2",
    ...(options.unix ? ["-s", path] : ["-l", "127.0.0.1", "-p", String(port)]),
    ...(process.getuid?.() === 0 ? ["-u", "root"] : []),
    ...(options.args ?? []),
  ];
  const child = spawn("memcached", args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, ...options.env },
  });
  let stderr = "";
  child.stderr?.on("data", (chunk) => stderr += String(chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const failed = new Promise<never>((_, reject) => {
    child.once(
      "error",
      (err: NodeJS.ErrnoException) =>
        reject(new Error(err.code === "ENOENT" ? INSTALL_HINT : err.message)),
    );
    child.once("exit", (code) => reject(new Error(`memcached exited (${code}): ${stderr}`)));
  });
  failed.catch(() => {});
  await Promise.race([
    ready(options.unix ? { path } : { port }, options.plainText ?? true),
    failed,
  ]);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid!, "SIGCONT");
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    server: options.unix ? path : `127.0.0.1:${port}`,
    port,
    stop,
    pause: async () => {
      process.kill(child.pid!, "SIGSTOP");
      for (let attempt = 0; attempt < 200 && !stopped(child.pid!); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    resume: () => process.kill(child.pid!, "SIGCONT"),
  };
}

/**
 * Starts twemproxy (Debian's `nutcracker`) on a free port in front of
 * `servers`, with ketama distribution, and waits until it answers.
 */
export async function startTwemproxy(servers: string[]): Promise<Memcached> {
  const dir = mkdtempSync(join(tmpdir(), "twemproxy-test-"));
  const [port, statsPort] = [await freePort(), await freePort()];
  const config = join(dir, "nutcracker.yml");
  writeFileSync(
    config,
    [
      "pool:",
      `  listen: 127.0.0.1:${port}`,
      "  hash: fnv1a_64",
      "  distribution: ketama",
      "  timeout: 2000",
      "  auto_eject_hosts: false",
      "  servers:",
      ...servers.map((server) => `   - ${server}:1`),
      "",
    ].join("\n"),
  );
  const child = spawn(
    "nutcracker",
    ["-c", config, "-s", String(statsPort), "-a", "127.0.0.1", "-o", join(dir, "log")],
    { stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const failed = new Promise<never>((_, reject) => {
    child.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === "ENOENT"
            ? "nutcracker is not installed: run `apt-get install -y nutcracker`"
            : err.message,
        ),
      ));
    child.once("exit", (code) => reject(new Error(`nutcracker exited (${code})`)));
  });
  failed.catch(() => {});
  await Promise.race([ready({ port }), failed]);
  return {
    server: `127.0.0.1:${port}`,
    port,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
    pause: () => Promise.reject(new Error("not supported for twemproxy")),
    resume: () => {},
  };
}

/** Sends raw bytes to a memcached and returns what it answers, for checks behind the client's back. */
export function raw(server: string, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const [host, port] = server.split(":");
    const socket = server.startsWith("/") ? connect(server) : connect(Number(port), host);
    let reply = "";
    socket.on("data", (chunk) => {
      reply += String(chunk);
      if (/(END|OK|STORED|DELETED|ERROR[^\r]*)\r\n$/.test(reply)) socket.end();
    });
    socket.on("close", () => resolve(reply));
    socket.on("error", reject);
    socket.write(request);
  });
}

/** Whether a process is stopped by a signal, from /proc. */
function stopped(pid: number): boolean {
  return /^State:\s+T/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
}

async function ready(
  target: { port: number } | { path: string },
  plainText = true,
): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    // A reply, not just a connection, shows that the server has accepted
    // the probe, so it is counted in the stats before the tests look.
    const ok = await new Promise<boolean>((resolve) => {
      const socket = "path" in target ? connect(target.path) : connect(target.port, "127.0.0.1");
      socket.once("connect", () => {
        if (plainText) return socket.write("version\r\n");
        socket.destroy();
        resolve(true);
      });
      socket.once("data", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("memcached did not start answering within 5 s");
}
