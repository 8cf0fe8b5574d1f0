/**
 * Throwaway credentials for the authentication and TLS tests, made at test
 * time: a CA with a server and a client certificate (and an unrelated CA)
 * by `openssl`, and a SASL password database by `saslpasswd2` (Debian's
 * sasl2-bin) with the SASL config memcached reads through SASL_CONF_PATH.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function run(command: string, args: string[], input?: string): void {
  const result = spawnSync(command, args, { input, encoding: "utf8" });
  if (result.error) throw new Error(`${command}: ${result.error.message} (is it installed?)`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr}`);
}

/** PEM files and their contents. */
export interface Certificates {
  dir: string;
  /** Files memcached reads. */
  serverCert: string;
  serverKey: string;
  caFile: string;
  /** PEM text a client is given. */
  ca: string;
  otherCa: string;
  clientCert: string;
  clientKey: string;
}

/**
 * A CA, a server certificate for `localhost` and 127.0.0.1 signed by it, a
 * client certificate signed by it, and an unrelated CA.
 */
export function makeCertificates(): Certificates {
  const dir = mkdtempSync(join(tmpdir(), "memcached-tls-"));
  const at = (name: string) => join(dir, name);
  const selfSigned = (name: string, subject: string) =>
    run("openssl", [
      ..."req -x509 -newkey rsa:2048 -nodes -days 2".split(" "),
      ...["-subj", subject, "-keyout", at(`${name}.key`), "-out", at(`${name}.crt`)],
    ]);
  const signed = (name: string, subject: string, extensions: string) => {
    writeFileSync(at(`${name}.ext`), extensions);
    run("openssl", [
      ..."req -newkey rsa:2048 -nodes".split(" "),
      ...["-subj", subject, "-keyout", at(`${name}.key`), "-out", at(`${name}.csr`)],
    ]);
    run("openssl", [
      ...["x509", "-req", "-in", at(`${name}.csr`), "-CA", at("ca.crt"), "-CAkey", at("ca.key")],
      ...[
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        at(`${name}.ext`),
        "-out",
        at(`${name}.crt`),
      ],
    ]);
  };
  selfSigned("ca", "/CN=memcached test CA");
  selfSigned("other", "/CN=unrelated CA");
  signed(
    "server",
    "/CN=localhost",
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
  );
  signed("client", "/CN=client", "extendedKeyUsage=clientAuth\n");
  const read = (name: string) => readFileSync(at(name), "utf8");
  return {
    dir,
    serverCert: at("server.crt"),
    serverKey: at("server.key"),
    caFile: at("ca.crt"),
    ca: read("ca.crt"),
    otherCa: read("other.crt"),
    clientCert: read("client.crt"),
    clientKey: read("client.key"),
  };
}

/**
 * A SASL setup for memcached -S holding one user: start memcached with
 * `SASL_CONF_PATH` set to the returned folder.
 */
export function makeSaslUser(username: string, password: string): string {
  const dir = mkdtempSync(join(tmpdir(), "memcached-sasl-"));
  const db = join(dir, "sasldb");
  run("saslpasswd2", ["-a", "memcached", "-c", "-p", "-f", db, username], password);
  writeFileSync(join(dir, "memcached.conf"), `mech_list: plain\nsasldb_path: ${db}\n`);
  return dir;
}

/** An authfile for memcached -Y holding one user. */
export function makeAuthFile(username: string, password: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "memcached-auth-")), "authfile");
  writeFileSync(file, `${username}:${password}\n`);
  return file;
}
