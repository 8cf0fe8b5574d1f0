/**
 * Authentication and encryption against real memcached processes: SASL
 * PLAIN over the binary protocol (`-S`), ASCII authentication (`-Y`) over
 * text and meta, and TLS (`-Z`) with verification and client certificates.
 * Credentials, certificates and the SASL database are made at test time.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  AuthError,
  Client,
  type ClientOptions,
  ConnectionError,
  InvalidArguments,
  NotSupportedError,
  TlsError,
} from "../mod.ts";
import { connectNode } from "../transport/node.ts";
import { runtime } from "../transport/mod.ts";
import { type Memcached, startMemcached } from "./memcached.ts";
import { operations } from "./operations.ts";
import { type Certificates, makeAuthFile, makeCertificates, makeSaslUser } from "./secrets.ts";
import { suite } from "./tools.ts";

const USER = "alice";
const PASSWORD = "s3cret-Pa55";

/** Asserts that `call` fails with `Class` and that no message or cause shows the password. */
async function rejectsWithout(call: Promise<unknown>, Class: typeof AuthError): Promise<void> {
  const err = await call.then(() => undefined, (e: Error) => e);
  assert.ok(err instanceof Class, `expected ${Class.name}, got ${err}`);
  const told = [err.message, String(err), err.stack ?? "", String(err.cause ?? "")].join("\n");
  assert.ok(!told.includes(PASSWORD), "the password must not appear in the error");
}

/** A started server whose `stop` also removes the folder `dir()` names. */
async function andRemove(
  starting: Promise<Memcached>,
  dir: () => string,
): Promise<{ server: string; stop(): Promise<void> }> {
  const started = await starting;
  return {
    server: started.server,
    stop: async () => {
      await started.stop();
      rmSync(dir(), { recursive: true, force: true });
    },
  };
}

suite("SASL authentication over the binary protocol", ["memcached", "saslpasswd2"], () => {
  let sasl: string;
  let server: Memcached;
  const start = async () => {
    sasl = makeSaslUser(USER, PASSWORD);
    server = await startMemcached({
      args: ["-S"],
      env: { SASL_CONF_PATH: sasl },
      plainText: false,
    });
    return server;
  };
  const options = (extra: ClientOptions = {}): ClientOptions => ({
    protocol: "binary",
    timeout: 3000,
    ...extra,
  });

  operations(
    "with SASL PLAIN",
    () => andRemove(start(), () => sasl),
    false,
    options({ username: USER, password: PASSWORD }),
  );

  describe("refusals", () => {
    before(start);
    after(async () => {
      await server?.stop();
      rmSync(sasl, { recursive: true, force: true });
    });

    test("a wrong password is AuthError that does not show the password", async () => {
      const client = new Client(
        server.server,
        options({ username: USER, password: PASSWORD + "x" }),
      );
      await rejectsWithout(client.set("k", "v"), AuthError);
      await rejectsWithout(client.get("k"), AuthError);
      client.close();
    });

    test("an unknown user is AuthError", async () => {
      const client = new Client(
        server.server,
        options({ username: "mallory", password: PASSWORD }),
      );
      await assert.rejects(client.get("k"), AuthError);
      client.close();
    });

    test("no credentials is AuthError, for single and multi-key calls", async () => {
      const client = new Client(server.server, options());
      await assert.rejects(client.get("k"), AuthError);
      await assert.rejects(client.setMulti({ a: 1, b: 2 }), AuthError);
      client.close();
    });
  });
});

suite("ASCII authentication (memcached -Y)", ["memcached"], () => {
  let authfile: string;
  const start = async () => {
    authfile = makeAuthFile(USER, PASSWORD);
    return await startMemcached({ args: ["-Y", authfile] });
  };

  for (const protocol of ["meta", "text"] as const) {
    operations(
      `with ASCII authentication, ${protocol} protocol`,
      () => andRemove(start(), () => dirname(authfile)),
      false,
      { protocol, username: USER, password: PASSWORD },
    );
  }

  describe("refusals", () => {
    let server: Memcached;
    before(async () => server = await start());
    after(async () => {
      await server?.stop();
      rmSync(dirname(authfile), { recursive: true, force: true });
    });

    test("the login is written once per connection: no item ever holds the credentials", async () => {
      for (let round = 0; round < 5; round++) {
        const client = new Client(server.server, {
          username: USER,
          password: PASSWORD,
          maxConnections: 4,
        });
        await Promise.all(Array.from({ length: 50 }, (_, i) => client.set(`k${i}`, i)));
        client.close();
      }
      const reader = new Client(server.server, {
        protocol: "text",
        username: USER,
        password: PASSWORD,
      });
      const items = (await reader.listKeys()).get(server.server)!;
      assert.ok(!items.some((item) => item.key === "auth"), "no item is named after the login");
      reader.close();
    });

    for (const protocol of ["auto", "meta", "text"] as const) {
      test(`a wrong password is AuthError that does not show the password (${protocol})`, async () => {
        const client = new Client(server.server, {
          protocol,
          username: USER,
          password: "nope" + PASSWORD,
        });
        await rejectsWithout(client.set("k", "v"), AuthError);
        await rejectsWithout(client.getMulti(["a", "b"]), AuthError);
        client.close();
      });

      test(`no credentials is AuthError (${protocol})`, async () => {
        const client = new Client(server.server, { protocol });
        await assert.rejects(client.get("k"), AuthError);
        await assert.rejects(client.set("k", "v"), AuthError);
        client.close();
      });
    }
  });
});

describe("credentials options", () => {
  test("username without password, or a non-string, is a TypeError", () => {
    assert.throws(() => new Client("127.0.0.1:1", { username: USER }), TypeError);
    assert.throws(
      () => new Client("127.0.0.1:1", { username: USER, password: 1 as unknown as string }),
      TypeError,
    );
  });

  test("a space in a text-protocol password is InvalidArguments that does not show it", () => {
    const err = (() => {
      try {
        new Client("127.0.0.1:1", { username: USER, password: "has space" });
      } catch (e) {
        return e as Error;
      }
    })();
    assert.ok(err instanceof InvalidArguments);
    assert.match(err.message, /password/);
    assert.ok(!err.message.includes("has space"));
  });

  test("SASL allows spaces in a password but not NUL", () => {
    new Client("127.0.0.1:1", { protocol: "binary", username: USER, password: "has space" })
      .close();
    assert.throws(
      () => new Client("127.0.0.1:1", { protocol: "binary", username: USER, password: "a\0b" }),
      InvalidArguments,
    );
  });
});

suite("TLS", ["memcached", "openssl"], () => {
  let certs: Certificates;
  let tls: Memcached;
  let mutual: Memcached;
  let plain: Memcached;

  before(async () => {
    certs = makeCertificates();
    const chain = `ssl_chain_cert=${certs.serverCert},ssl_key=${certs.serverKey}`;
    tls = await startMemcached({ args: ["-Z", "-o", chain], plainText: false });
    mutual = await startMemcached({
      args: ["-Z", "-o", `${chain},ssl_ca_cert=${certs.caFile},ssl_verify_mode=2`],
      plainText: false,
    });
    plain = await startMemcached();
  });
  after(async () => {
    await Promise.all([tls?.stop(), mutual?.stop(), plain?.stop()]);
    rmSync(certs.dir, { recursive: true, force: true });
  });

  const roundTrip = async (server: string, options: ClientOptions) => {
    const client = new Client(server, { timeout: 3000, ...options });
    try {
      assert.equal(await client.set("tls", "secret value"), true);
      assert.equal(await client.get("tls"), "secret value");
    } finally {
      client.close();
    }
  };
  const refused = async (server: string, options: ClientOptions, Class: typeof TlsError) => {
    const client = new Client(server, { timeout: 3000, ...options });
    try {
      const err = await client.get("tls").then(() => undefined, (e: Error) => e);
      assert.ok(err instanceof Class, `expected ${Class.name}, got ${err}`);
      return err;
    } finally {
      client.close();
    }
  };

  test("a server whose certificate a trusted CA signed is spoken to over TLS", async () => {
    await roundTrip(tls.server, { tls: { ca: certs.ca } });
  });

  test("a memcacheds:// entry uses TLS, with the client's settings", async () => {
    await roundTrip(`memcacheds://${tls.server}`, { tls: { ca: certs.ca } });
  });

  test("the certificate may name the host by a name given as serverName", async () => {
    await roundTrip(tls.server, { tls: { ca: certs.ca, serverName: "localhost" } });
  });

  test("an untrusted CA is TlsError, a ConnectionError", async () => {
    const err = await refused(tls.server, { tls: { ca: certs.otherCa } }, TlsError);
    assert.ok(err instanceof ConnectionError);
    assert.match(err.message, /TLS handshake failed/);
    await refused(tls.server, { tls: true }, TlsError);
  });

  test("a certificate for another name is TlsError", async () => {
    await refused(tls.server, { tls: { ca: certs.ca, serverName: "elsewhere.example" } }, TlsError);
  });

  test("a server without TLS is refused, never spoken to in plain text", async () => {
    await refused(plain.server, { tls: { ca: certs.ca } }, ConnectionError);
  });

  test("a server that requires a client certificate refuses a client without one", async () => {
    await refused(mutual.server, { tls: { ca: certs.ca } }, TlsError);
  });

  test("a client certificate signed by the server's CA is accepted (mutual TLS)", async () => {
    await roundTrip(mutual.server, {
      tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey },
    });
  });

  test("the node:net adapter speaks TLS too", async () => {
    await roundTrip(tls.server, { tls: { ca: certs.ca }, connector: connectNode });
    await refused(tls.server, { tls: { ca: certs.otherCa }, connector: connectNode }, TlsError);
  });

  test("binary protocol over TLS", async () => {
    await roundTrip(tls.server, { tls: { ca: certs.ca }, protocol: "binary" });
  });

  if (runtime === "deno") {
    test("rejectUnauthorized: false is NotSupportedError on Deno", async () => {
      await refused(tls.server, { tls: { rejectUnauthorized: false } }, NotSupportedError);
    });
  } else {
    test("rejectUnauthorized: false accepts an unverified server", async () => {
      await roundTrip(tls.server, { tls: { rejectUnauthorized: false } });
    });
  }

  test("bad tls settings are refused at construction", () => {
    assert.throws(
      () => new Client("127.0.0.1:1", { tls: { cert: certs.clientCert } }),
      InvalidArguments,
    );
    assert.throws(
      () => new Client("127.0.0.1:1", { tls: { ca: 1 } as unknown as { ca: string } }),
      TypeError,
    );
    assert.throws(
      () => new Client("127.0.0.1:1", { tls: { verify: true } as unknown as { ca: string } }),
      InvalidArguments,
    );
  });
});
