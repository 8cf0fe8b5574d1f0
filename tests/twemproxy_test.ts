/**
 * The behaviour suite through twemproxy (Debian's nutcracker) in front of
 * three memcached with ketama distribution. twemproxy speaks the text
 * protocol and refuses some commands by closing the connection: `stats`,
 * `flush_all`, `verbosity`, `gat` and the meta commands. The client reports
 * a refused `stats`, `flushAll` or `getAndTouch` as NotSupportedError rather
 * than hanging, and with `protocol: "auto"` it finds that the proxy speaks
 * text only.
 */
import { type Memcached, startMemcached, startTwemproxy } from "./memcached.ts";
import { operations } from "./operations.ts";

operations(
  "through twemproxy",
  async () => {
    const backends: Memcached[] = await Promise.all([1, 2, 3].map(() => startMemcached()));
    const proxy = await startTwemproxy(backends.map((b) => b.server));
    return {
      server: proxy.server,
      stop: async () => {
        await proxy.stop();
        await Promise.all(backends.map((b) => b.stop()));
      },
    };
  },
  true,
  {},
  ["memcached", "nutcracker"],
);
