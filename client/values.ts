/**
 * A value on its way to be stored: serialized (and compressed, where the
 * codec says so) and checked against `maxValueSize`.
 *
 * @module
 */
import type { Codec, Encoded } from "../codec/mod.ts";
import { errorFor, InvalidArguments } from "../errors.ts";
import { Status } from "../protocol/status.ts";
import type { StoreVerb } from "../protocol/text.ts";
import type { DataBlock } from "../protocol/writer.ts";

/**
 * A value as it is sent: its data block, where text is encoded straight
 * into the request as it is written, and its flags.
 */
export interface Payload {
  data: DataBlock;
  flags: number;
}

/**
 * `value` as `verb` sends it for `key`; a promise only when it must be
 * compressed. InvalidArguments when the serializer cannot store it (or,
 * the default one, read it back as it is); TooBig when it is larger than
 * `maxValueSize`. append, prepend and cas are never compressed: that would
 * corrupt the item.
 */
export function payloadOf(
  codec: Codec,
  maxValueSize: number,
  verb: StoreVerb,
  key: string,
  value: unknown,
): Payload | Promise<Payload> {
  let prepared: ReturnType<Codec["prepare"]>;
  try {
    prepared = codec.prepare(value);
  } catch (cause) {
    if (!(cause instanceof TypeError)) throw cause;
    throw new InvalidArguments(cause.message, { operation: verb, key, cause });
  }
  if ("data" in prepared) return prepared;
  const compressible = verb !== "cas" && verb !== "append" && verb !== "prepend";
  if (compressible && codec.needsCompression(prepared)) {
    return codec.compress(prepared).then((packed) => fits(packed, maxValueSize, verb, key));
  }
  return fits(prepared, maxValueSize, verb, key);
}

/** The encoded value as sent, if it is not larger than `maxValueSize`. */
function fits(encoded: Encoded, maxValueSize: number, operation: string, key: string): Payload {
  if (encoded.bytes.length > maxValueSize) {
    throw errorFor(
      Status.E2BIG,
      `value of ${encoded.bytes.length} bytes is larger than maxValueSize ${maxValueSize}`,
      { operation, key },
    );
  }
  return { data: encoded.bytes, flags: encoded.flags };
}
