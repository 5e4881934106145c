import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ClickFacts, clickRecord, ipPrefix, visitorId } from '../../src/domain/click.js';

/** An IPv6 address (or prefix without the length) as 8 numbers; written here, independent of the code under test. */
function expandIPv6(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const part = (s: string | undefined) => (s === undefined || s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = part(head);
  const right = part(tail);
  const groups = tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  expect(groups).toHaveLength(8);
  for (const g of groups) expect(g >= 0 && g <= 0xffff, address).toBe(true);
  return groups;
}

/** Asserts that `prefix` is the /48 network `address` belongs to. */
function expectSlash48Of(prefix: string, address: string): void {
  const match = /^(.+)\/48$/.exec(prefix);
  expect(match, `${prefix} should end in /48`).not.toBeNull();
  const network = expandIPv6(match![1]!);
  const full = expandIPv6(address);
  expect(network.slice(0, 3)).toEqual(full.slice(0, 3));
  expect(network.slice(3)).toEqual([0, 0, 0, 0, 0]);
}

describe('ipPrefix', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['198.51.100.0', '198.51.100.0/24'],
    ['8.8.8.8', '8.8.8.0/24'],
    ['255.255.255.255', '255.255.255.0/24'],
  ])('keeps only the /24 of the IPv4 address %s', (ip, prefix) => {
    expect(ipPrefix(ip)).toBe(prefix);
  });

  it.each(['::ffff:203.0.113.77', '::FFFF:203.0.113.77'])('treats the IPv4-mapped IPv6 address %s as IPv4', (ip) => {
    expect(ipPrefix(ip)).toBe('203.0.113.0/24');
  });

  it.each([
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8:85a3:8d3:1319:8a2e:370:7348'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0DB8:00AB:0001::', '2001:db8:ab:1::'],
    ['2400:cb00:2049:1::a29f:1804', '2400:cb00:2049:1::a29f:1804'],
    ['::1', '::1'],
    ['::', '::'],
    ['fe80::1%eth0', 'fe80::1'],
  ])('keeps only the /48 of the IPv6 address %s', (ip, plain) => {
    expectSlash48Of(ipPrefix(ip), plain);
  });

  it('keeps the first three octets of any IPv4 address, plain or mapped into IPv6', () => {
    fc.assert(
      fc.property(fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)), ([a, b, c, d]) => {
        expect(ipPrefix(`${a}.${b}.${c}.${d}`)).toBe(`${a}.${b}.${c}.0/24`);
        expect(ipPrefix(`::ffff:${a}.${b}.${c}.${d}`)).toBe(`${a}.${b}.${c}.0/24`);
      }),
    );
  });

  it('gives the same prefix for two addresses in one /48 and different ones across /48s', () => {
    expect(ipPrefix('2001:db8:1:aaaa::1')).toBe(ipPrefix('2001:db8:1:bbbb::2'));
    expect(ipPrefix('2001:db8:1::1')).not.toBe(ipPrefix('2001:db8:2::1'));
    expect(ipPrefix('203.0.113.1')).toBe(ipPrefix('203.0.113.254'));
    expect(ipPrefix('203.0.113.1')).not.toBe(ipPrefix('203.0.114.1'));
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['a word', 'unknown'],
    ['a host name', 'proxy.internal'],
    ['an IPv4 octet above 255', '999.1.2.3'],
    ['an IPv4 address with three parts', '203.0.113'],
    ['an IPv4 address with five parts', '203.0.113.7.1'],
    ['an IPv4 octet with a leading zero', '203.0.113.07'],
    ['a mapped IPv4 address with three parts', '::ffff:203.0.113'],
    ['a mapped IPv4 octet above 255', '::ffff:203.0.113.256'],
    ['an IPv4 address with spaces', ' 203.0.113.7'],
    ['a list of addresses', '203.0.113.7, 10.0.0.1'],
    ['a port', '203.0.113.7:443'],
    ['words around colons', 'hello:world'],
    ['markup with colons', '<script>alert(1)</script>:a:b'],
    ['a too-long IPv6', '1:2:3:4:5:6:7:8:9'],
    ['a non-hex IPv6 group', '2001:db8::zzzz'],
    ['a long string with a colon', `${'a'.repeat(10_000)}:1`],
  ])('gives "" for %s', (_, ip) => {
    expect(ipPrefix(ip)).toBe('');
  });
});

describe('clickRecord', () => {
  const base = {
    clickId: 'V1StGXR8_Z5jdHi6B-myT',
    linkCode: 'aB3dE9xQ',
    merchantId: 'm1',
    noteId: 'note-42',
    campaignId: 'spring',
    at: 1_740_787_205_000,
    route: 'web' as const,
  };
  const facts = (overrides: Partial<ClickFacts>): ClickFacts => ({
    userAgent: 'Mozilla/5.0 (iPhone) discover/8.0',
    referrer: 'https://www.xiaohongshu.com/',
    acceptLanguage: 'zh-CN,zh;q=0.9',
    ip: '203.0.113.77',
    ...overrides,
  });

  it('keeps the tap identity and ordinary headers as they are', () => {
    expect(clickRecord(base, facts({}))).toEqual({
      ...base,
      userAgent: 'Mozilla/5.0 (iPhone) discover/8.0',
      referrer: 'https://www.xiaohongshu.com/',
      acceptLanguage: 'zh-CN,zh;q=0.9',
      ipPrefix: '203.0.113.0/24',
    });
  });

  it.each(['203.0.113.77', '::ffff:198.51.100.23', '2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8::beef'])(
    'never stores the raw IP %s, only its network',
    (ip) => {
      const record = clickRecord(base, facts({ ip }));
      expect(JSON.stringify(record)).not.toContain(ip);
      expect(JSON.stringify(record)).not.toContain(ip.replace(/^::ffff:/i, ''));
      expect(record.ipPrefix).not.toBe('');
      expect(Object.keys(record)).not.toContain('ip');
    },
  );

  it('truncates a 10 KB user agent to a bounded prefix of it', () => {
    const userAgent = `Mozilla/5.0 ${'x'.repeat(10 * 1024)}`;
    const record = clickRecord(base, facts({ userAgent }));
    expect(record.userAgent.length).toBeGreaterThan(0);
    expect(record.userAgent.length).toBeLessThanOrEqual(512);
    expect(userAgent.startsWith(record.userAgent)).toBe(true);
  });

  it('bounds the referrer and accept-language as well', () => {
    const record = clickRecord(base, facts({ referrer: `https://a.example/${'r'.repeat(10_000)}`, acceptLanguage: 'en;'.repeat(5000) }));
    expect(record.referrer.length).toBeLessThanOrEqual(1024);
    expect(record.acceptLanguage.length).toBeLessThanOrEqual(128);
    expect(record.referrer.startsWith('https://a.example/')).toBe(true);
  });

  it('replaces binary and non-printable characters one for one, keeping the printable ones', () => {
    const userAgent = 'Mozilla\u0000/5.0\r\nX-Injected: 1\u001b[31m\u007f\u00ff\u200b中文';
    const record = clickRecord(base, facts({ userAgent, referrer: '\u0001\u0002', acceptLanguage: 'zh\tCN' }));
    expect(record.userAgent).toMatch(/^[\x20-\x7e]*$/);
    expect(record.userAgent).toHaveLength(userAgent.length);
    expect(record.userAgent.startsWith('Mozilla?/5.0??X-Injected: 1?[31m')).toBe(true);
    expect(record.referrer).toBe('??');
    expect(record.acceptLanguage).toBe('zh?CN');
  });

  it('keeps empty and missing headers as ""', () => {
    const empty = clickRecord(base, { userAgent: '', referrer: '', acceptLanguage: '', ip: '' });
    const missing = clickRecord(base, { userAgent: undefined, referrer: undefined, acceptLanguage: undefined, ip: undefined });
    for (const record of [empty, missing]) {
      expect(record).toMatchObject({ userAgent: '', referrer: '', acceptLanguage: '', ipPrefix: '' });
    }
  });
});

describe('visitorId', () => {
  // Computed with Python's hashlib, not with this code. The repeat and flood rules key on this id
  // across restarts and deploys: a change to it would count every visitor unique once more.
  it('is the first 16 characters of base64url(SHA-256(prefix LF user agent))', () => {
    expect(visitorId('10.1.2.0/24', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X)')).toBe('CgTGKy3kMK0J7S72');
  });

  it('tells networks and browsers apart', () => {
    const ua = 'Mozilla/5.0';
    expect(visitorId('10.1.2.0/24', ua)).not.toBe(visitorId('10.1.3.0/24', ua));
    expect(visitorId('10.1.2.0/24', ua)).not.toBe(visitorId('10.1.2.0/24', `${ua} Mobile`));
  });
});
