/**
 * A page-view counter for Deno Deploy (or any Deno server).
 *
 * Run locally against a memcached:
 *
 * ```sh
 * MEMCACHED_SERVERS=127.0.0.1:11211 deno run --allow-net --allow-env examples/deno_deploy.ts
 * curl localhost:8000/hello
 * ```
 *
 * On Deno Deploy, set MEMCACHED_SERVERS (and MEMCACHED_USERNAME /
 * MEMCACHED_PASSWORD for a server with ASCII authentication) in the
 * project's environment variables, and import from `jsr:@seed/memcached`
 * instead of `../mod.ts`. One client lives as long as the isolate: its
 * connections are reused by every request it serves.
 */
import { Client } from "../mod.ts";

const servers = (Deno.env.get("MEMCACHED_SERVERS") ?? "127.0.0.1:11211").split(",");
const client = new Client(servers, {
  timeout: 500,
  username: Deno.env.get("MEMCACHED_USERNAME"),
  password: Deno.env.get("MEMCACHED_PASSWORD"),
  tls: Deno.env.get("MEMCACHED_TLS") === "1",
});

Deno.serve(async (request) => {
  const key = `views:${new URL(request.url).pathname}`;
  try {
    const views = await client.incr(key, 1, { initial: 1 });
    return Response.json({ path: new URL(request.url).pathname, views });
  } catch (err) {
    // A cache that is down must not take the page down with it.
    return Response.json({ views: null, error: (err as Error).name }, { status: 503 });
  }
});
