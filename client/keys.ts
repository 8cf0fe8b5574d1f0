/**
 * {@linkcode KeyEncoder}: a key as the client sends it, checked and
 * prefixed, for the client and its reader alike.
 *
 * @module
 */
import { errorFor } from "../errors.ts";
import { encodeBinaryKey, encodeKey, type SentKey, textKey } from "../protocol/keys.ts";
import { Status } from "../protocol/status.ts";

/** Checks and encodes keys with a client's prefix and key rules. */
export class KeyEncoder {
  /** The prefix every key is sent with. */
  readonly prefix: string;
  readonly #binaryKeys: boolean;
  /**
   * Whether keys of printable ASCII may be sent as strings: everywhere but
   * the binary protocol and base64 keys.
   */
  readonly #textKeys: boolean;

  /** An encoder for keys sent with `prefix`; see the client's `binaryKeys` option. */
  constructor(prefix: string, binaryKeys: boolean, textKeys: boolean) {
    this.prefix = prefix;
    this.#binaryKeys = binaryKeys;
    this.#textKeys = textKeys;
  }

  /** The key as sent, checked: its bytes. BadKeyProvided names `operation`. */
  key(key: string, operation: string): Uint8Array {
    if (typeof key !== "string") throw new TypeError(`key must be a string, not ${typeof key}`);
    const encoded = this.#binaryKeys
      ? encodeBinaryKey(key, this.prefix)
      : encodeKey(key, this.prefix);
    if (typeof encoded === "string") {
      throw errorFor(Status.BAD_KEY_PROVIDED, `key ${encoded}`, { operation, key });
    }
    return encoded;
  }

  /**
   * The key as sent, checked: a string where it is its own encoding (a key
   * of printable ASCII where keys travel as text), else its bytes. The hot
   * multi-key paths take this one.
   */
  sent(key: string, operation: string): SentKey {
    return (this.#textKeys && textKey(key, this.prefix)) || this.key(key, operation);
  }
}
