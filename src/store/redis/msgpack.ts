/**
 * Strings as one MessagePack array, the form a script unpacks in C (`cmsgpack.unpack`, part of
 * Redis's Lua): the click script spent a tenth of its instructions splitting one joined argument
 * in Lua, and a length-prefixed value needs no separator kept out of it.
 */
export function packStrings(sections: readonly (readonly string[])[]): Buffer {
  const parts: Buffer[] = [Buffer.from(arrayHeader(sections), 'latin1')];
  for (const section of sections) {
    for (const value of section) {
      const bytes = Buffer.from(value, 'utf8');
      parts.push(Buffer.from(stringHeader(bytes.length), 'latin1'), bytes);
    }
  }
  return Buffer.concat(parts);
}

/**
 * packStrings for the common batch, where every value is ASCII and a character is a byte: written
 * straight into one buffer, with no string or buffer per value. Returns null when a value is not
 * ASCII (its UTF-8 is longer than its characters), for the caller to pack with packStrings.
 */
export function packAsciiStrings(sections: readonly (readonly string[])[]): Buffer | null {
  let count = 0;
  // Four bytes of room beyond what ASCII needs: a value that is not ASCII then always writes more
  // bytes than it has characters, even where the buffer cuts it short (a character is at most four).
  let size = 5 + 4;
  for (const section of sections) {
    count += section.length;
    for (const value of section) size += 5 + value.length;
  }
  const packed = Buffer.allocUnsafe(size);
  packed[0] = 0xdd;
  packed.writeUInt32BE(count, 1);
  let at = 5;
  for (const section of sections) {
    for (const value of section) {
      const length = value.length;
      if (length < 32) {
        packed[at++] = 0xa0 | length;
      } else if (length < 0x100) {
        packed[at++] = 0xd9;
        packed[at++] = length;
      } else if (length < 0x10000) {
        packed[at++] = 0xda;
        packed.writeUInt16BE(length, at);
        at += 2;
      } else {
        packed[at++] = 0xdb;
        packed.writeUInt32BE(length, at);
        at += 4;
      }
      if (packed.write(value, at, 'utf8') !== length) return null;
      at += length;
    }
  }
  return packed.subarray(0, at);
}

function arrayHeader(sections: readonly (readonly string[])[]): string {
  let count = 0;
  for (const section of sections) count += section.length;
  return `\xdd${uint32(count)}`;
}

/** A str header for a value of `length` bytes (fixstr, str 8, str 16 or str 32), as latin1 text. */
function stringHeader(length: number): string {
  if (length < 32) return String.fromCharCode(0xa0 | length);
  if (length < 0x100) return `\xd9${String.fromCharCode(length)}`;
  if (length < 0x10000) return `\xda${String.fromCharCode(length >>> 8, length & 0xff)}`;
  return `\xdb${uint32(length)}`;
}

function uint32(n: number): string {
  return String.fromCharCode((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}
