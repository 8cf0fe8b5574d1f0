/**
 * libmemcached's key hash functions, bit for bit, so that a key lands on the
 * same server whichever client (pylibmc, php-memcached, C) wrote it.
 *
 * libmemcached reads key bytes as C `char`, which is signed on the platforms
 * it is built for: where it widens a byte to 32 or 64 bits, bytes of 0x80 and
 * above are sign-extended. {@linkcode signed} reproduces that.
 *
 * @module
 */

/** The hash names pylibmc accepts for the `hash` behavior. */
export type HashName =
  | "default"
  | "md5"
  | "crc"
  | "fnv1_64"
  | "fnv1a_64"
  | "fnv1_32"
  | "fnv1a_32"
  | "hsieh"
  | "murmur"
  | "jenkins";

/** A 32-bit key hash. */
export type HashFunction = (key: Uint8Array) => number;

/** A byte as libmemcached widens a C `char`: sign-extended to 32 bits. */
function signed(byte: number): number {
  return (byte << 24) >> 24 >>> 0;
}

/** Bob Jenkins' one-at-a-time hash: libmemcached's `default`. */
export function oneAtATime(key: Uint8Array): number {
  let h = 0;
  for (const byte of key) {
    h = (h + signed(byte)) >>> 0;
    h = (h + (h << 10)) >>> 0;
    h = (h ^ (h >>> 6)) >>> 0;
  }
  h = (h + (h << 3)) >>> 0;
  h = (h ^ (h >>> 11)) >>> 0;
  return (h + (h << 15)) >>> 0;
}

/** The CRC-32 table, built on first use: a loop at import would start the JIT in every process. */
let crcTable: Uint32Array | undefined;

function crcTableOf(): Uint32Array {
  if (crcTable) return crcTable;
  crcTable = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crcTable[n] = c >>> 0;
  }
  return crcTable;
}

/** CRC-32, reduced as libmemcached does to 15 bits: `(~crc >> 16) & 0x7fff`. */
export function crc(key: Uint8Array): number {
  let c = 0xffffffff;
  const table = crcTableOf();
  for (const byte of key) c = (c >>> 8) ^ table[(c ^ byte) & 0xff];
  return ((~c >>> 0) >>> 16) & 0x7fff;
}

/** FNV-1, 32-bit. */
export function fnv1_32(key: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const byte of key) h = (Math.imul(h, 0x01000193) ^ signed(byte)) >>> 0;
  return h;
}

/** FNV-1a, 32-bit. */
export function fnv1a_32(key: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const byte of key) h = Math.imul((h ^ signed(byte)) >>> 0, 0x01000193) >>> 0;
  return h;
}

/**
 * FNV-1, 64-bit, as libmemcached returns it: the low 32 bits. Those depend
 * only on the low 32 bits of the offset basis and prime.
 */
export function fnv1_64(key: Uint8Array): number {
  let h = 0x84222325;
  for (const byte of key) h = (Math.imul(h, 0x1b3) ^ signed(byte)) >>> 0;
  return h;
}

/** FNV-1a "64-bit", which libmemcached computes in 32 bits with truncated constants. */
export function fnv1a_64(key: Uint8Array): number {
  let h = 0x84222325;
  for (const byte of key) h = Math.imul((h ^ signed(byte)) >>> 0, 0x1b3) >>> 0;
  return h;
}

/** Paul Hsieh's SuperFastHash, as libmemcached has it. */
export function hsieh(key: Uint8Array): number {
  if (key.length === 0) return 0;
  const get16 = (at: number) => key[at] | (key[at + 1] << 8);
  let h = 0;
  let at = 0;
  for (let blocks = key.length >>> 2; blocks > 0; blocks--) {
    h = (h + get16(at)) >>> 0;
    const tmp = ((get16(at + 2) << 11) ^ h) >>> 0;
    h = ((h << 16) ^ tmp) >>> 0;
    at += 4;
    h = (h + (h >>> 11)) >>> 0;
  }
  switch (key.length & 3) {
    case 3:
      h = (h + get16(at)) >>> 0;
      h = (h ^ (h << 16)) >>> 0;
      h = (h ^ (signed(key[at + 2]) << 18)) >>> 0;
      h = (h + (h >>> 11)) >>> 0;
      break;
    case 2:
      h = (h + get16(at)) >>> 0;
      h = (h ^ (h << 11)) >>> 0;
      h = (h + (h >>> 17)) >>> 0;
      break;
    case 1:
      h = (h + key[at]) >>> 0;
      h = (h ^ (h << 10)) >>> 0;
      h = (h + (h >>> 1)) >>> 0;
  }
  h = (h ^ (h << 3)) >>> 0;
  h = (h + (h >>> 5)) >>> 0;
  h = (h ^ (h << 4)) >>> 0;
  h = (h + (h >>> 17)) >>> 0;
  h = (h ^ (h << 25)) >>> 0;
  return (h + (h >>> 6)) >>> 0;
}

/** MurmurHash2 with libmemcached's seed (`0xdeadbeef * length`). */
export function murmur(key: Uint8Array): number {
  const m = 0x5bd1e995;
  let length = key.length;
  let h = (Math.imul(0xdeadbeef, length) ^ length) >>> 0;
  let at = 0;
  while (length >= 4) {
    let k = key[at] | (key[at + 1] << 8) | (key[at + 2] << 16) | (key[at + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = (Math.imul(h, m) ^ k) >>> 0;
    at += 4;
    length -= 4;
  }
  switch (length) {
    case 3:
      h ^= key[at + 2] << 16;
    // falls through
    case 2:
      h ^= key[at + 1] << 8;
    // falls through
    case 1:
      h ^= key[at];
      h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h >>> 0;
}

/** Bob Jenkins' lookup3 `hashlittle` with libmemcached's initial value 13. */
export function jenkins(key: Uint8Array): number {
  const rot = (x: number, k: number) => (x << k) | (x >>> (32 - k));
  let length = key.length;
  let a = (0xdeadbeef + length + 13) | 0;
  let b = a;
  let c = a;
  const word = (at: number) =>
    key[at] | (key[at + 1] << 8) | (key[at + 2] << 16) | (key[at + 3] << 24);
  let at = 0;
  while (length > 12) {
    a = (a + word(at)) | 0;
    b = (b + word(at + 4)) | 0;
    c = (c + word(at + 8)) | 0;
    a = (a - c) | 0, a ^= rot(c, 4), c = (c + b) | 0;
    b = (b - a) | 0, b ^= rot(a, 6), a = (a + c) | 0;
    c = (c - b) | 0, c ^= rot(b, 8), b = (b + a) | 0;
    a = (a - c) | 0, a ^= rot(c, 16), c = (c + b) | 0;
    b = (b - a) | 0, b ^= rot(a, 19), a = (a + c) | 0;
    c = (c - b) | 0, c ^= rot(b, 4), b = (b + a) | 0;
    length -= 12;
    at += 12;
  }
  if (length === 0) return c >>> 0;
  const tail = new Uint8Array(12);
  tail.set(key.subarray(at, at + length));
  const tailWord = (i: number) =>
    tail[i] | (tail[i + 1] << 8) | (tail[i + 2] << 16) | (tail[i + 3] << 24);
  a = (a + tailWord(0)) | 0;
  b = (b + tailWord(4)) | 0;
  c = (c + tailWord(8)) | 0;
  c ^= b, c = (c - rot(b, 14)) | 0;
  a ^= c, a = (a - rot(c, 11)) | 0;
  b ^= a, b = (b - rot(a, 25)) | 0;
  c ^= b, c = (c - rot(b, 16)) | 0;
  a ^= c, a = (a - rot(c, 4)) | 0;
  b ^= a, b = (b - rot(a, 14)) | 0;
  c ^= b, c = (c - rot(b, 24)) | 0;
  return c >>> 0;
}

/** The 16-byte MD5 digest of `bytes` (RFC 1321). */
export function md5Digest(bytes: Uint8Array): Uint8Array {
  const length = bytes.length;
  const padded = new Uint8Array(((length + 72) >>> 6) << 6);
  padded.set(bytes);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, (length << 3) >>> 0, true);
  view.setUint32(padded.length - 4, Math.floor(length / 0x20000000), true);
  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476;
  const x = new Int32Array(16);
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) x[i] = view.getInt32(block + i * 4, true);
    let a = h0, b = h1, c = h2, d = h3;
    for (let i = 0; i < 64; i++) {
      let f: number, g: number;
      if (i < 16) f = (b & c) | (~b & d), g = i;
      else if (i < 32) f = (d & b) | (~d & c), g = (5 * i + 1) & 15;
      else if (i < 48) f = b ^ c ^ d, g = (3 * i + 5) & 15;
      else f = c ^ (b | ~d), g = (7 * i) & 15;
      const sum = (a + f + MD5_K[i] + x[g]) | 0;
      a = d, d = c, c = b;
      b = (b + ((sum << MD5_S[i]) | (sum >>> (32 - MD5_S[i])))) | 0;
    }
    h0 = (h0 + a) | 0, h1 = (h1 + b) | 0, h2 = (h2 + c) | 0, h3 = (h3 + d) | 0;
  }
  const out = new Uint8Array(16);
  const outView = new DataView(out.buffer);
  [h0, h1, h2, h3].forEach((h, i) => outView.setInt32(i * 4, h, true));
  return out;
}

const MD5_K = Int32Array.from(
  { length: 64 },
  (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0,
);
const MD5_S = Array.from(
  { length: 64 },
  (_, i) => [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21][(i >> 4) * 4 + (i & 3)],
);

/** The little-endian 32-bit word at `word` (0 to 3) of an MD5 digest. */
export function md5Word(digest: Uint8Array, word: number): number {
  const at = word * 4;
  return (digest[at] | (digest[at + 1] << 8) | (digest[at + 2] << 16) | (digest[at + 3] << 24)) >>>
    0;
}

/** MD5, reduced as libmemcached does to the first 32-bit little-endian word. */
export function md5(key: Uint8Array): number {
  return md5Word(md5Digest(key), 0);
}

/** Every hash by its pylibmc name. */
export const hashes: Readonly<Record<HashName, HashFunction>> = Object.freeze({
  default: oneAtATime,
  md5,
  crc,
  fnv1_64,
  fnv1a_64,
  fnv1_32,
  fnv1a_32,
  hsieh,
  murmur,
  jenkins,
});
