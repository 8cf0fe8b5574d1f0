/**
 * zlib streams, as pylibmc writes them: `deflate` with a level (through
 * `node:zlib` where the runtime has it, else CompressionStream at zlib's
 * default), and `inflate` bounded by a size, since a small stream can
 * inflate to gigabytes.
 *
 * @module
 */
import { NotSupportedError, UnreadableValue } from "../errors.ts";

interface NodeZlib {
  deflateSync(bytes: Uint8Array, options: { level: number }): Uint8Array;
}

let zlib: Promise<NodeZlib | undefined> | undefined;

function nodeZlib(): Promise<NodeZlib | undefined> {
  // Only node:zlib takes a compression level; where it is missing,
  // CompressionStream does zlib's default level.
  zlib ??= import("node:zlib").then(
    (module) => module as unknown as NodeZlib,
    () => undefined,
  );
  return zlib;
}

/** `bytes` as a zlib stream at `level` (-1: zlib's default). */
export async function deflate(bytes: Uint8Array, level: number): Promise<Uint8Array> {
  if (level !== -1) {
    const module = await nodeZlib();
    if (!module) {
      throw new NotSupportedError(
        "a compression level needs node:zlib, which this runtime lacks; leave level unset",
      );
    }
    const out = module.deflateSync(bytes, { level });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The bytes of a zlib stream; UnreadableValue past `limit` bytes, or when it is not one. */
export async function inflate(bytes: Uint8Array, limit: number): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("deflate"));
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      size += chunk.length;
      if (size > limit) {
        throw new UnreadableValue(
          `compressed value inflates to more than ${limit} bytes`,
        );
      }
      chunks.push(chunk);
    }
  } catch (cause) {
    if (cause instanceof UnreadableValue) throw cause;
    throw new UnreadableValue(`could not decompress value: ${message(cause)}`, {
      cause,
    });
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function message(err: unknown): string {
  return err instanceof globalThis.Error ? err.message : String(err);
}
