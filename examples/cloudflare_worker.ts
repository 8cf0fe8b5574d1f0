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
 * Workers cannot share a socket between requests, so each request makes its
 * client and closes it when the response is done.
 */
import { Client, type WorkersConnect, workersConnector } from "../mod.ts";

interface Env {
  MEMCACHED_SERVERS: string;
}

/** Set to `connect` from `cloudflare:sockets` where the bundler needs it explicit. */
const connect: WorkersConnect | undefined = undefined;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const client = new Client(env.MEMCACHED_SERVERS.split(","), {
      timeout: 500,
      ...(connect ? { connector: workersConnector(connect) } : {}),
    });
    const path = new URL(request.url).pathname;
    try {
      await client.add(`views:${path}`, 0);
      return Response.json({ path, views: Number(await client.incr(`views:${path}`)) });
    } catch (err) {
      return Response.json({ views: null, error: (err as Error).name }, { status: 503 });
    } finally {
      client.close();
    }
  },
};
