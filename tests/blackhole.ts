/**
 * A loopback listener that never accepts, with its accept queue full: a
 * connect to it hangs, as one to a server behind a dropped route does, while
 * no packet leaves the machine.
 *
 * @module
 */
import { spawn } from "node:child_process";

/** A listener whose connects hang. */
export interface Blackhole {
  /** The server entry to give a Client: `127.0.0.1:PORT`. */
  server: string;
  /** Closes the listener. */
  close(): Promise<void>;
}

// Python sets the backlog to 0 (the runtimes here cannot), fills the queue
// with connects of its own, then holds the socket until stdin closes.
const SCRIPT = `
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
port = s.getsockname()[1]
held = []
for _ in range(8):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    held.append(c)
time.sleep(0.2)
print(port, flush=True)
sys.stdin.read()
`;

/** Starts a blackhole on a free loopback port. */
export async function startBlackhole(): Promise<Blackhole> {
  const child = spawn("/usr/bin/python3", ["-c", SCRIPT], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.stdout!.once("data", (data) => resolve(Number(String(data).trim())));
  });
  return {
    server: `127.0.0.1:${port}`,
    close: async () => {
      child.stdin!.end();
      child.kill();
      await exited;
    },
  };
}
