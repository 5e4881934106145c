// packStrings and packAsciiStrings are read by Redis's own cmsgpack, so Redis is what checks it: every value must come
// back whole and in order, whatever its length (each MessagePack string header) and characters.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packAsciiStrings, packStrings } from '../../src/store/redis/msgpack.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

const UNPACK = 'return cmsgpack.unpack(ARGV[1])';
const SEPARATOR = '\x1f';
const occurrencesIn = (values: readonly string[], char: string) => values.join('').split(char).length - 1;

describe('packed strings, as Redis unpacks them', () => {
  let server: TestRedis;
  beforeEach(async () => {
    server = await testRedis();
  });
  afterEach(async () => {
    await server.cleanup();
  });

  const unpacked = async (packed: Buffer) => (await server.redis.eval(UNPACK, 0, packed)) as string[];

  it('keeps every value of every section, in order, at each header size', async () => {
    const lengths = [0, 1, 31, 32, 255, 256, 65_535, 65_536];
    const sections = [lengths.map((n) => 'a'.repeat(n)), ['x', ''], lengths.map((n) => 'b'.repeat(n)).reverse()];
    expect(await unpacked(packStrings(sections))).toEqual(sections.flat());
    expect(packAsciiStrings(sections, SEPARATOR)?.packed).toEqual(packStrings(sections));
    expect(await unpacked(packAsciiStrings(sections, SEPARATOR)!.packed)).toEqual(sections.flat());
  });

  it('packAsciiStrings packs ASCII exactly as packStrings, and refuses anything else, wherever it is', () => {
    const value = fc.oneof(
      fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((code) => String.fromCharCode(code)), maxLength: 300, size: 'max' }),
      fc.string({ unit: 'binary', maxLength: 300, size: 'max' }),
    );
    fc.assert(
      fc.property(fc.array(fc.array(value, { maxLength: 6 }), { minLength: 1, maxLength: 4 }), (sections) => {
        const ascii = sections.flat().every((v) => /^[\x00-\x7f]*$/.test(v));
        const packed = packAsciiStrings(sections, SEPARATOR);
        if (ascii) expect(packed).toEqual({ packed: packStrings(sections), charsInValues: occurrencesIn(sections.flat(), SEPARATOR) });
        else expect(packed).toBeNull();
      }),
      { numRuns: 500 },
    );
  });

  it('packAsciiStrings refuses a long value that is not ASCII, wherever its first such character is', () => {
    // Alone, behind a str 32 header: the non-ASCII character first, last, or everywhere.
    for (const value of ['€'.repeat(70_000), `${'a'.repeat(69_999)}€`, `é${'a'.repeat(69_999)}`, '🛍'.repeat(40_000)]) {
      expect(packAsciiStrings([[value]], SEPARATOR)).toBeNull();
    }
  });

  it('counts a value’s length in UTF-8 bytes, not characters', async () => {
    const sections = [['ascii'], ['zh-CN 中文', 'é'.repeat(20), '🛍️'.repeat(40)], ['after']];
    const reply = (await server.redis.callBuffer('EVAL', UNPACK, 0, packStrings(sections))) as Buffer[];
    expect(reply.map((value) => value.toString('utf8'))).toEqual(sections.flat());
  });

  it('packs an empty batch and more values than a 16-bit count holds', async () => {
    expect(await unpacked(packStrings([[]]))).toEqual([]);
    expect(await unpacked(packAsciiStrings([[]], SEPARATOR)!.packed)).toEqual([]);
    const many = Array.from({ length: 70_000 }, (_, i) => String(i));
    expect(await unpacked(packAsciiStrings([many.slice(0, 30_000), many.slice(30_000)], SEPARATOR)!.packed)).toEqual(many);
  });

  it('counts a character in the values only, where a header holds its byte too', () => {
    // 31 values make the array's count end in 0x1f; a value of 287 (0x011f) bytes has it in its str 16 header.
    const values = [`a${SEPARATOR}b`, 'x'.repeat(287), ...Array.from({ length: 29 }, () => 'y')];
    const { packed, charsInValues } = packAsciiStrings([values], SEPARATOR)!;
    expect(packed.filter((byte) => byte === 0x1f).length).toBe(3);
    expect(charsInValues).toBe(1);
  });
});
