/**
 * The configuration endpoint's answer to `config get cluster`, as AWS
 * ElastiCache and Google Cloud Memorystore document it: a `CONFIG` line
 * with the data's length, then a version number and the nodes, each
 * `hostname|ip|port`, separated by spaces.
 *
 * ```text
 * CONFIG cluster 0 50\r\n
 * 12\n
 * a.example|10.0.0.1|11211 b.example||11211\n
 * \r\n
 * END\r\n
 * ```
 *
 * @module
 */

/** The request, as sent. */
export const CONFIG_GET_CLUSTER = "config get cluster\r\n";

/** A cluster's configuration: its version, and its nodes as server entries (`host:port`). */
export interface ClusterConfig {
  version: number;
  servers: string[];
}

/**
 * Whether `text` holds a whole answer: `END` after the data, or an error
 * line (a server without the command says `ERROR`).
 */
export function configComplete(text: string): boolean {
  return /(^|\r\n)END\r\n$/.test(text) ||
    /^(ERROR|CLIENT_ERROR|SERVER_ERROR)[^\r\n]*\r\n/.test(text);
}

/**
 * Reads a whole answer; a string saying what is wrong when it is not one
 * (an error line, a length that does not match, a node that is not
 * `host|ip|port`). A node's IP address is used when it has one, else its
 * host name.
 */
export function parseClusterConfig(text: string): ClusterConfig | string {
  const head = /^CONFIG cluster \d+ (\d+)\r\n/.exec(text);
  if (!head) return `not a cluster configuration: ${JSON.stringify(text.slice(0, 60))}`;
  const length = Number(head[1]);
  const data = text.slice(head[0].length, head[0].length + length);
  if (new TextEncoder().encode(data).length !== length || !text.endsWith("END\r\n")) {
    return "the configuration's length does not match its data";
  }
  const [version, nodes = ""] = data.split("\n");
  if (!/^\d+$/.test(version)) return `version ${JSON.stringify(version)} is not a number`;
  const servers: string[] = [];
  for (const node of nodes.trim().split(/\s+/).filter(Boolean)) {
    const parts = node.split("|");
    if (parts.length !== 3 || !/^\d+$/.test(parts[2]) || !(parts[0] || parts[1])) {
      return `node ${JSON.stringify(node)} is not host|ip|port`;
    }
    const host = parts[1] || parts[0];
    servers.push(host.includes(":") ? `[${host}]:${parts[2]}` : `${host}:${parts[2]}`);
  }
  if (servers.length === 0) return "the configuration lists no nodes";
  return { version: Number(version), servers };
}
