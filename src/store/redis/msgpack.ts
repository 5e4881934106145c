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
 * packStrings for values the caller knows to be ASCII, where a character is a byte: built as one
 * latin1 string, several times faster. A value with any other character would be packed wrong.
 */
export function packAsciiStrings(sections: readonly (readonly string[])[]): Buffer {
  let packed = arrayHeader(sections);
  for (const section of sections) for (const value of section) packed += stringHeader(value.length) + value;
  return Buffer.from(packed, 'latin1');
}

/** Whether every character of `text` is ASCII, so that packAsciiStrings may pack it. */
export function isAscii(text: string): boolean {
  return Buffer.byteLength(text) === text.length;
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
