// packStrings and packAsciiStrings are read by Redis's own cmsgpack, so Redis is what checks it: every value must come
// back whole and in order, whatever its length (each MessagePack string header) and characters.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAscii, packAsciiStrings, packStrings } from '../../src/store/redis/msgpack.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

const UNPACK = 'return cmsgpack.unpack(ARGV[1])';

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
    expect(packAsciiStrings(sections)).toEqual(packStrings(sections));
  });

  it('tells ASCII text, which packAsciiStrings may pack, from any other', () => {
    expect(isAscii('Mozilla/5.0 (iPhone) \x1f~')).toBe(true);
    expect(isAscii('')).toBe(true);
    expect(isAscii('zh-CN 中文')).toBe(false);
    expect(isAscii('\x80')).toBe(false);
  });

  it('counts a value’s length in UTF-8 bytes, not characters', async () => {
    const sections = [['ascii'], ['zh-CN 中文', 'é'.repeat(20), '🛍️'.repeat(40)], ['after']];
    const reply = (await server.redis.callBuffer('EVAL', UNPACK, 0, packStrings(sections))) as Buffer[];
    expect(reply.map((value) => value.toString('utf8'))).toEqual(sections.flat());
  });

  it('packs an empty batch and more values than a 16-bit count holds', async () => {
    expect(await unpacked(packStrings([[]]))).toEqual([]);
    expect(await unpacked(packAsciiStrings([[]]))).toEqual([]);
    const many = Array.from({ length: 70_000 }, (_, i) => String(i));
    expect(await unpacked(packAsciiStrings([many.slice(0, 30_000), many.slice(30_000)]))).toEqual(many);
  });
});
