/** The behaviour suite against a real memcached, over TCP and over a Unix socket. */
import { startMemcached } from "./memcached.ts";
import { operations } from "./operations.ts";

operations("over tcp", () => startMemcached());
operations("over unix", () => startMemcached({ unix: true }));
