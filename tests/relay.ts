/**
 * A loopback TCP relay between the client and a real memcached that can
 * delay, stall, drop, truncate, corrupt or reset traffic in either
 * direction, for fault tests, or make multi-key gets answer out of order.
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
  /** Holds data back until the relay heals, then delivers it. */
  | { kind: "stall" }
  | { kind: "truncate"; bytes: number }
  | { kind: "corrupt" }
  | { kind: "reset" }
  | { kind: "drop" }
  /** Sends `text` once, ahead of the next data, then passes data through again. */
  | { kind: "inject"; text: string }
  /**
   * Asks for the keys of each text `get` in reverse order, as a proxy that
   * gathers them from several servers may answer: the replies come out of
   * the order asked. Each request must arrive in one chunk, as small ones do
   * on loopback.
   */
  | { kind: "reverseGets" };

/** A running relay. */
export interface Relay {
  /** The server entry to give a Client. */
  server: string;
  /**
   * Applies `fault` to data flowing in `direction` from now on: on every
   * connection, or only on the `connection`-th one accepted (from 0).
   */
  set(direction: Direction, fault: Fault, connection?: number): void;
  /** Removes every fault; connections cut by one stay cut. */
  heal(): void;
  /** Closes the relay and every connection through it. */
  close(): Promise<void>;
}

/** Starts a relay on a free loopback port in front of `target` (`host:port`). */
export async function startRelay(target: string): Promise<Relay> {
  const [host, port] = target.split(":");
  const none: Fault = { kind: "none" };
  const faults: Record<Direction, Fault> = { up: none, down: none };
  const only = new Map<number, Record<Direction, Fault>>();
  const pairs = new Set<[Socket, Socket]>();
  const held: [Socket, Uint8Array][] = [];
  let accepted = 0;

  const pipe = (from: Socket, to: Socket, direction: Direction, index: number) => {
    from.on("data", (chunk: Uint8Array) => {
      const own = only.get(index)?.[direction];
      const fault = own && own.kind !== "none" ? own : faults[direction];
      switch (fault.kind) {
        case "none":
          return void to.write(chunk);
        case "delay":
          return void setTimeout(() => to.destroyed || to.write(chunk), fault.ms);
        case "stall":
          return void held.push([to, chunk]);
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
        case "reverseGets":
          return void to.write(reverseGets(chunk));
        case "inject":
          if (own === fault) only.get(index)![direction] = none;
          else faults[direction] = none;
          to.write(new TextEncoder().encode(fault.text));
          return void to.write(chunk);
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
    const index = accepted++;
    pipe(client, upstream, "up", index);
    pipe(upstream, client, "down", index);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const listening = typeof address === "object" && address ? address.port : 0;
  return {
    server: `127.0.0.1:${listening}`,
    set: (direction, fault, connection) => {
      if (connection === undefined) faults[direction] = fault;
      else {
        const own = only.get(connection) ?? { up: none, down: none };
        own[direction] = fault;
        only.set(connection, own);
      }
    },
    heal: () => {
      faults.up = none;
      faults.down = none;
      only.clear();
      for (const [to, chunk] of held.splice(0)) if (!to.destroyed) to.write(chunk);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [a, b] of pairs) a.destroy(), b.destroy();
        server.close(() => resolve());
      }),
  };
}

/** `chunk` with the keys of each `get` line in reverse order. */
function reverseGets(chunk: Uint8Array): Uint8Array {
  const lines = new TextDecoder().decode(chunk).split("\r\n").map((line) =>
    line.startsWith("get ") ? `get ${line.slice(4).split(" ").reverse().join(" ")}` : line
  );
  return new TextEncoder().encode(lines.join("\r\n"));
}
