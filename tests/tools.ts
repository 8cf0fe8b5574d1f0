/**
 * The system tools the suite uses, and suites that say which one is missing
 * instead of failing: a machine set up as the README says has them all.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";

/** A system tool some suites need. */
export type Tool =
  | "memcached"
  | "nutcracker"
  | "saslpasswd2"
  | "openssl"
  | "python3"
  | "pylibmc"
  | "php-memcached";

/** The Debian package of each tool: the README's set-up line installs them all. */
const PACKAGE: Record<Tool, string> = {
  memcached: "memcached",
  nutcracker: "nutcracker",
  saslpasswd2: "sasl2-bin",
  openssl: "openssl",
  python3: "python3",
  pylibmc: "python3-pylibmc",
  "php-memcached": "php-cli php-memcached",
};

const known = new Map<Tool, boolean>();

/** Whether `command` is an executable on PATH, where the suites run it from. */
function onPath(command: string): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function installed(tool: Tool): boolean {
  let found = known.get(tool);
  if (found === undefined) {
    switch (tool) {
      case "python3":
        // Debian's, where pylibmc lives: another python3 may come first on PATH.
        found = spawnSync("/usr/bin/python3", ["-c", ""]).status === 0;
        break;
      case "pylibmc":
        found = spawnSync("/usr/bin/python3", ["-c", "import pylibmc"]).status === 0;
        break;
      case "php-memcached":
        found = spawnSync("php", ["-r", 'exit(class_exists("Memcached") ? 0 : 1);']).status === 0;
        break;
      default:
        found = onPath(tool);
    }
    known.set(tool, found);
  }
  return found;
}

/** Why a suite needing `tools` cannot run here, or `undefined` when it can. */
export function missing(tools: readonly Tool[]): string | undefined {
  const absent = tools.filter((tool) => !installed(tool));
  if (absent.length === 0) return undefined;
  const packages = [...new Set(absent.map((tool) => PACKAGE[tool]))].join(" ");
  return `${absent.join(", ")} not installed: run \`apt-get install -y ${packages}\``;
}

/**
 * `describe(name, body)` when every tool in `tools` is installed; otherwise
 * a suite of one skipped test whose name says what is missing, which every
 * runtime's reporter shows.
 */
export function suite(name: string, tools: readonly Tool[], body: () => void): void {
  const reason = missing(tools);
  if (reason === undefined) {
    describe(name, body);
    return;
  }
  describe(name, () => {
    test(`skipped: ${reason}`, { skip: reason }, () => {});
  });
}
