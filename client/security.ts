/**
 * Credentials and TLS settings: their checks, and the authentication request
 * every new connection sends first (SASL PLAIN over the binary protocol, or
 * memcached's ASCII authentication for text and meta). Used by client.ts.
 *
 * Credentials never appear in errors: a refusal says only that the server
 * refused them.
 *
 * @module
 */
import type { Hello } from "../connection/mod.ts";
import { InvalidArguments } from "../errors.ts";
import { encodeSaslPlain } from "../protocol/binary.ts";
import { Status } from "../protocol/status.ts";
import { encodeStore } from "../protocol/text.ts";
import type { TlsOptions } from "../transport/mod.ts";

/** A user name and password. */
export interface Credentials {
  username: string;
  password: string;
}

const utf8 = new TextEncoder();

/**
 * The credentials from the `username` and `password` options, or
 * `undefined` when neither is given. The text protocol's authentication
 * puts them on one line separated by a space, so there they may not hold
 * spaces or control characters; SASL PLAIN only refuses NUL.
 */
export function checkCredentials(
  username: unknown,
  password: unknown,
  protocol: string,
): Credentials | undefined {
  if (username === undefined && password === undefined) return undefined;
  if (typeof username !== "string" || typeof password !== "string") {
    throw new TypeError("username and password must both be strings");
  }
  if (username === "") throw new InvalidArguments("username must not be empty");
  const bad = (value: string) =>
    [...value].some((c) => {
      const code = c.charCodeAt(0);
      return protocol === "binary" ? code === 0 : code <= 0x20 || code === 0x7f || /\s/.test(c);
    });
  // Name which one is wrong, never what it holds.
  if (bad(username)) throw new InvalidArguments(`username ${why(protocol)}`);
  if (bad(password)) throw new InvalidArguments(`password ${why(protocol)}`);
  return { username, password };
}

function why(protocol: string): string {
  return protocol === "binary"
    ? "must not contain NUL"
    : "must not contain spaces or control characters with the text and meta protocols";
}

/** The authentication request for new connections. */
export function authentication(credentials: Credentials, binary: boolean): Hello {
  const { username, password } = credentials;
  if (binary) {
    return {
      operation: "authenticate",
      expect: "line",
      encode: (w) => encodeSaslPlain(w, username, password),
      check: (reply) =>
        reply.status === Status.SUCCESS ? undefined : {
          status: reply.status === Status.AUTH_CONTINUE
            ? Status.AUTH_CONTINUE
            : Status.AUTH_FAILURE,
          detail: `SASL authentication failed: ${reply.line}`,
        },
    };
  }
  // memcached -Y reads the data block of any storage command as
  // "<username> <password>"; the key is ignored.
  const secret = utf8.encode(`${username} ${password}`);
  const key = utf8.encode("auth");
  return {
    operation: "authenticate",
    expect: "line",
    encode: (w) => encodeStore(w, "set", key, 0, 0, secret),
    check: (reply) =>
      reply.status === Status.STORED ? undefined : {
        status: Status.AUTH_FAILURE,
        detail: `authentication failed: ${reply.line}`,
      },
  };
}

/**
 * The `tls` option checked: `undefined` for plain connections, else the
 * settings (`{}` for `true`).
 */
export function checkTls(tls: unknown): TlsOptions | undefined {
  if (tls === undefined || tls === false) return undefined;
  if (tls === true) return {};
  if (typeof tls !== "object" || tls === null || Array.isArray(tls)) {
    throw new TypeError("tls must be a boolean or an object");
  }
  const known = ["ca", "cert", "key", "serverName", "rejectUnauthorized"];
  for (const name of Object.keys(tls)) {
    if (!known.includes(name)) {
      throw new InvalidArguments(`tls: unknown option ${JSON.stringify(name)}`);
    }
  }
  const options = tls as TlsOptions;
  const pem = (value: unknown) => typeof value === "string";
  if (
    options.ca !== undefined &&
    !(pem(options.ca) || (Array.isArray(options.ca) && options.ca.every(pem)))
  ) {
    throw new TypeError("tls.ca must be a PEM string or an array of them");
  }
  for (const name of ["cert", "key", "serverName"] as const) {
    if (options[name] !== undefined && !pem(options[name])) {
      throw new TypeError(`tls.${name} must be a string`);
    }
  }
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new InvalidArguments("tls.cert and tls.key go together");
  }
  if (options.rejectUnauthorized !== undefined && typeof options.rejectUnauthorized !== "boolean") {
    throw new TypeError("tls.rejectUnauthorized must be a boolean");
  }
  return { ...options };
}
