/**
 * A connector that records what the client writes to a real server, for
 * tests that check the commands sent.
 *
 * @module
 */
import type { Connector } from "../mod.ts";
import { defaultConnector } from "../transport/mod.ts";

/** The runtime's connector, recording every write as text. */
export function recording(): { connector: Connector; writes: string[] } {
  const writes: string[] = [];
  const connector: Connector = async (address, events, options) => {
    const socket = await defaultConnector(address, events, options);
    return {
      write: (bytes) => {
        writes.push(new TextDecoder().decode(bytes));
        return socket.write(bytes);
      },
      close: () => socket.close(),
    };
  };
  return { connector, writes };
}
