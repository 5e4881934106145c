import { Buffer } from 'node:buffer';

/**
 * HMAC-SHA256 (RFC 2104 over FIPS 180-4), base64url without padding, for signing taps.
 *
 * node:crypto's createHmac builds a native object per call: under load, signing took 14% of the
 * gateway's CPU (bench profile), twice what this takes. Here a key's inner and outer states are
 * computed once, and each message is hashed in typed arrays kept between calls. Property tests hold
 * it to node:crypto's HMAC for any key and message (test/domain/hmac-sha256.test.ts). What the
 * hashing does depends on the message's length only, never on the bytes of the key or message.
 */

const ROUND_CONSTANTS = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const INITIAL_STATE = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const BLOCK = 64;
const DIGEST = 32;

// Reused by every call: JavaScript runs one call at a time.
const schedule = new Int32Array(64);
const state = new Int32Array(8);
const digest = Buffer.alloc(DIGEST);
// The message, then its padding (up to 72 bytes: room kept out of `room`); grown when a message does not fit.
let input = new Uint8Array(1024);
let room = input.subarray(0, input.length - BLOCK - 8);
const encoder = new TextEncoder();

/** Folds the 64-byte blocks of bytes[0, end) into `into`. */
function compress(into: Int32Array, bytes: Uint8Array, end: number): void {
  const w = schedule;
  for (let block = 0; block < end; block += BLOCK) {
    for (let i = 0; i < 16; i++) {
      const at = block + i * 4;
      w[i] = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15]!;
      const y = w[i - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = into[0]!, b = into[1]!, c = into[2]!, d = into[3]!, e = into[4]!, f = into[5]!, g = into[6]!, h = into[7]!;
    for (let i = 0; i < 64; i++) {
      const t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + ROUND_CONSTANTS[i]! + w[i]!) | 0;
      const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    into[0] = (into[0]! + a) | 0;
    into[1] = (into[1]! + b) | 0;
    into[2] = (into[2]! + c) | 0;
    into[3] = (into[3]! + d) | 0;
    into[4] = (into[4]! + e) | 0;
    into[5] = (into[5]! + f) | 0;
    into[6] = (into[6]! + g) | 0;
    into[7] = (into[7]! + h) | 0;
  }
}

/**
 * Hashes bytes[0, length) of `bytes` (which has room for 72 more) into `state`, continuing from
 * `from` after `before` bytes already hashed into it.
 */
function finish(from: Int32Array, before: number, bytes: Uint8Array, length: number): void {
  state.set(from);
  let end = length;
  bytes[end++] = 0x80;
  while (end % BLOCK !== BLOCK - 8) bytes[end++] = 0;
  const bits = (before + length) * 8;
  const high = Math.floor(bits / 0x1_0000_0000);
  for (let shift = 24; shift >= 0; shift -= 8) bytes[end++] = (high >>> shift) & 0xff;
  for (let shift = 24; shift >= 0; shift -= 8) bytes[end++] = (bits >>> shift) & 0xff;
  compress(state, bytes, end);
}

function stateBytes(into: Uint8Array): void {
  for (let i = 0; i < 8; i++) {
    const word = state[i]!;
    into[i * 4] = word >>> 24;
    into[i * 4 + 1] = word >>> 16;
    into[i * 4 + 2] = word >>> 8;
    into[i * 4 + 3] = word;
  }
}

/** `text` as UTF-8 at the start of `input`, grown as needed with room for the padding; its length. */
function encode(text: string): number {
  for (;;) {
    const { read, written } = encoder.encodeInto(text, room);
    if (read === text.length) return written;
    // A UTF-16 unit takes at most 3 bytes of UTF-8.
    input = new Uint8Array(text.length * 3 + BLOCK + 8);
    room = input.subarray(0, text.length * 3);
  }
}

interface KeyStates {
  inner: Int32Array;
  outer: Int32Array;
}

function keyStates(secret: string): KeyStates {
  const key = new Uint8Array(BLOCK);
  const length = encode(secret);
  if (length > BLOCK) {
    // A key longer than a block is hashed first (RFC 2104).
    finish(INITIAL_STATE, 0, input, length);
    stateBytes(key);
  } else {
    key.set(input.subarray(0, length));
  }
  const pad = (byte: number) => {
    const padded = key.map((k) => k ^ byte);
    const into = Int32Array.from(INITIAL_STATE);
    compress(into, padded, BLOCK);
    return into;
  };
  return { inner: pad(0x36), outer: pad(0x5c) };
}

// A process signs with a key or two; past this many, the cache starts again.
const MAX_KEYS = 16;
const keys = new Map<string, KeyStates>();

export function hmacSha256Base64url(secret: string, message: string): string {
  let key = keys.get(secret);
  if (key === undefined) {
    if (keys.size >= MAX_KEYS) keys.clear();
    key = keyStates(secret);
    keys.set(secret, key);
  }
  const length = encode(message);
  finish(key.inner, BLOCK, input, length);
  stateBytes(input);
  finish(key.outer, BLOCK, input, DIGEST);
  stateBytes(digest);
  return digest.toString('base64url');
}
