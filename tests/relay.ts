/**
 * A loopback TCP relay between the client and a real memcached that can
 * delay, stall, drop, truncate, corrupt or reset traffic in either
 * direction, for fault tests.
 *
 * @module
 */
import { connect, createServer, type Server, type Socket } from "node:net";

/** Which way traffic flows: to the server, or back to the client. */
export type Direction = "up" | "down";

/** A fault the relay applies to new data in one direction. */
export type Fault =
  | { kind: "none" }
  | { kind: "delay"; ms: number }
  | { kind: "stall" }
  | { kind: "truncate"; bytes: number }
  | { kind: "corrupt" }
  | { kind: "reset" }
  | { kind: "drop" };

/** A running relay. */
export interface Relay {
  /** The server entry to give a Client. */
  server: string;
  /** Applies `fault` to data flowing in `direction` from now on. */
  set(direction: Direction, fault: Fault): void;
  /** Removes every fault; connections cut by one stay cut. */
  heal(): void;
  /** Closes the relay and every connection through it. */
  close(): Promise<void>;
}

/** Starts a relay on a free loopback port in front of `target` (`host:port`). */
export async function startRelay(target: string): Promise<Relay> {
  const [host, port] = target.split(":");
  const faults: Record<Direction, Fault> = { up: { kind: "none" }, down: { kind: "none" } };
  const pairs = new Set<[Socket, Socket]>();

  const pipe = (from: Socket, to: Socket, direction: Direction) => {
    from.on("data", (chunk: Uint8Array) => {
      const fault = faults[direction];
      switch (fault.kind) {
        case "none":
          return void to.write(chunk);
        case "delay":
          return void setTimeout(() => to.destroyed || to.write(chunk), fault.ms);
        case "stall":
          return;
        case "truncate":
          to.write(chunk.subarray(0, fault.bytes));
          return void to.end();
        case "corrupt": {
          const bad = Uint8Array.from(chunk);
          bad[0] = 0x21;
          return void to.write(bad);
        }
        case "reset":
          from.destroy();
          return void to.destroy();
        case "drop":
          from.end();
          return void to.end();
      }
    });
    from.on("end", () => to.end());
    from.on("close", () => to.destroy());
    from.on("error", () => to.destroy());
  };

  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on("close", () => pairs.delete(pair));
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    pipe(client, upstream, "up");
    pipe(upstream, client, "down");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const listening = typeof address === "object" && address ? address.port : 0;
  return {
    server: `127.0.0.1:${listening}`,
    set: (direction, fault) => void (faults[direction] = fault),
    heal: () => {
      faults.up = { kind: "none" };
      faults.down = { kind: "none" };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [a, b] of pairs) a.destroy(), b.destroy();
        server.close(() => resolve());
      }),
  };
}
