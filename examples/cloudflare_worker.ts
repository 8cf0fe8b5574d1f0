/**
 * A page-view counter as a Cloudflare Worker, over `cloudflare:sockets`.
 *
 * In a Worker project (`npm create cloudflare@latest`), install the package
 * (`npx jsr add @seed/memcached`, or from npm), import from
 * `@seed/memcached` instead of `../mod.ts`, and set in wrangler.toml:
 *
 * ```toml
 * compatibility_flags = ["nodejs_compat"]
 * [vars]
 * MEMCACHED_SERVERS = "cache.example.com:11211"
 * ```
 *
 * then `npx wrangler dev`. The client finds `cloudflare:sockets` by itself;
 * a bundler that cannot load it lazily can be given it explicitly, as below.
 *
 * The client is made once, at module scope, and serves every request. A
 * Workers socket belongs to the request that opened it, so the client shares
 * a connection between requests only while it is idle and opens another for
 * a request that finds it busy.
 */
import { Client, type WorkersConnect, workersConnector } from "../mod.ts";

interface Env {
  MEMCACHED_SERVERS: string;
}

/** Set to `connect` from `cloudflare:sockets` where the bundler needs it explicit. */
const connect: WorkersConnect | undefined = undefined;

let client: Client | undefined;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    client ??= new Client(env.MEMCACHED_SERVERS.split(","), {
      timeout: 500,
      ...(connect ? { connector: workersConnector(connect) } : {}),
    });
    const path = new URL(request.url).pathname;
    try {
      const views = await client.incr(`views:${path}`, 1, { initial: 1 });
      return Response.json({ path, views });
    } catch (err) {
      return Response.json({ views: null, error: (err as Error).name }, { status: 503 });
    }
  },
};
