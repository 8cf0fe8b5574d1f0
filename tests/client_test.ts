/**
 * The behaviour suite against a real memcached, over TCP with each protocol
 * and over a Unix socket with the protocol chosen automatically.
 */
import { startMemcached } from "./memcached.ts";
import { operations } from "./operations.ts";

operations("over tcp, text protocol", () => startMemcached(), false, { protocol: "text" });
operations("over tcp, meta protocol", () => startMemcached(), false, { protocol: "meta" });
operations("over tcp, binary protocol", () => startMemcached(), false, { protocol: "binary" });
operations("over unix, protocol auto", () => startMemcached({ unix: true }));
