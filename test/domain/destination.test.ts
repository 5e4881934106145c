import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hostAllowed, parseDestination, splitVettedUrl } from '../../src/domain/destination.js';
import { HanglinkError } from '../../src/domain/errors.js';

const ALLOWED = ['.taobao.com', '.tmall.com'] as const;

/** Runs parseDestination and returns the refusal it throws; fails the test if it accepts. */
function refusalOf(raw: unknown): HanglinkError {
  let accepted: unknown;
  try {
    accepted = parseDestination(raw, ALLOWED);
  } catch (error) {
    expect(error).toBeInstanceOf(HanglinkError);
    return error as HanglinkError;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused, but it was accepted as ${JSON.stringify(accepted)}`);
}

function expectRefused(raw: unknown): HanglinkError {
  const error = refusalOf(raw);
  expect(error.kind).toBe('invalid');
  expect(error.code).toMatch(/^[a-z][a-z-]+$/);
  expect(error.detail.length).toBeGreaterThan(0);
  return error;
}

describe('hostAllowed', () => {
  it('allows a domain given with a leading dot, and every subdomain of it', () => {
    expect(hostAllowed('taobao.com', ALLOWED)).toBe(true);
    expect(hostAllowed('item.taobao.com', ALLOWED)).toBe(true);
    expect(hostAllowed('a.b.item.taobao.com', ALLOWED)).toBe(true);
    expect(hostAllowed('detail.tmall.com', ALLOWED)).toBe(true);
  });

  it('does not allow a host that merely ends with the same letters or contains the domain', () => {
    for (const host of ['eviltaobao.com', 'taobao.com.evil.example', 'taobao.com.', 'item.taobao.com.', 'taobao.co', 'tmall.com.cn', 'xtmall.com', '']) {
      expect(hostAllowed(host, ALLOWED), host).toBe(false);
    }
  });

  it('matches an entry without a leading dot exactly, not its subdomains', () => {
    expect(hostAllowed('shop.example.com', ['shop.example.com'])).toBe(true);
    expect(hostAllowed('a.shop.example.com', ['shop.example.com'])).toBe(false);
    expect(hostAllowed('example.com', ['shop.example.com'])).toBe(false);
  });

  it('allows nothing when the list is empty', () => {
    expect(hostAllowed('item.taobao.com', [])).toBe(false);
  });
});

describe('parseDestination accepts https item URLs on allowed hosts', () => {
  it.each([
    'https://item.taobao.com/item.htm?id=680123456789',
    'https://detail.tmall.com/item.htm?id=7001&skuId=42',
    'https://shop105437.taobao.com/',
    'https://taobao.com/',
    'https://item.taobao.com/item.htm?id=1&spm=a21bo.1#description',
    'https://item.taobao.com/item.htm?id=1&xhl_cid=2&hl=3&h_l_sig=4',
  ])('accepts %s unchanged, query and fragment included', (raw) => {
    const destination = parseDestination(raw, ALLOWED);
    expect(destination.url).toBe(raw);
    const parsed = new URL(destination.url);
    expect(parsed.protocol).toBe('https:');
    expect(hostAllowed(parsed.hostname, ALLOWED)).toBe(true);
    expect(parsed.search).toBe(new URL(raw).search);
    expect(parsed.hash).toBe(new URL(raw).hash);
  });

  it('stores the normalised form, so what was checked is what the shopper is sent to', () => {
    expect(parseDestination('HTTPS://ITEM.TAOBAO.COM/item.htm?id=1', ALLOWED).url).toBe('https://item.taobao.com/item.htm?id=1');
    expect(parseDestination('https://item.taobao.com', ALLOWED).url).toBe('https://item.taobao.com/');
  });

  it('drops an explicit default port, so the stored URL names no port', () => {
    const { url } = parseDestination('https://item.taobao.com:443/item.htm', ALLOWED);
    expect(new URL(url).port).toBe('');
    expect(url).not.toContain(':443');
  });

  it('accepts a URL of exactly the maximum length (2048 characters)', () => {
    const prefix = 'https://item.taobao.com/item.htm?id=';
    const raw = prefix + '1'.repeat(2048 - prefix.length);
    expect(raw).toHaveLength(2048);
    expect(parseDestination(raw, ALLOWED).url).toBe(raw);
  });

  it('names the field it was given in the refusal', () => {
    const error = refusalOf(['not a string']);
    expect(error.extra).toMatchObject({ field: 'url' });
    let named: unknown;
    try {
      parseDestination('http://item.taobao.com/', ALLOWED, 'items[3].url');
    } catch (e) {
      named = e;
    }
    expect((named as HanglinkError).extra).toMatchObject({ field: 'items[3].url' });
  });
});

describe('the split used by the redirect (base / fragment / querySeparator)', () => {
  const cases = [
    { raw: 'https://item.taobao.com/item.htm', base: 'https://item.taobao.com/item.htm', fragment: '', sep: '?' },
    { raw: 'https://item.taobao.com/item.htm?id=1', base: 'https://item.taobao.com/item.htm?id=1', fragment: '', sep: '&' },
    { raw: 'https://item.taobao.com/item.htm#reviews', base: 'https://item.taobao.com/item.htm', fragment: '#reviews', sep: '?' },
    { raw: 'https://item.taobao.com/item.htm?id=1#a?b#c', base: 'https://item.taobao.com/item.htm?id=1', fragment: '#a?b#c', sep: '&' },
    { raw: 'https://item.taobao.com/x#frag?notaquery', base: 'https://item.taobao.com/x', fragment: '#frag?notaquery', sep: '?' },
  ] as const;

  describe.each(cases)('$raw', ({ raw, base, fragment, sep }) => {
    it('parseDestination splits it so that base + fragment is the URL', () => {
      const destination = parseDestination(raw, ALLOWED);
      expect(destination).toEqual({ url: raw, base, fragment, querySeparator: sep });
      expect(destination.base + destination.fragment).toBe(destination.url);
    });

    it('splitVettedUrl splits a stored URL the same way', () => {
      expect(splitVettedUrl(raw)).toEqual(parseDestination(raw, ALLOWED));
    });

    it('appending attribution with the separator keeps the host, path, original query and fragment', () => {
      const d = splitVettedUrl(raw);
      const location = new URL(`${d.base}${d.querySeparator}hl_cid=abc${d.fragment}`);
      const original = new URL(raw);
      expect(location.host).toBe(original.host);
      expect(location.pathname).toBe(original.pathname);
      expect(location.hash).toBe(original.hash);
      expect(location.searchParams.get('hl_cid')).toBe('abc');
      for (const [name, value] of original.searchParams) expect(location.searchParams.get(name)).toBe(value);
    });
  });
});

describe('parseDestination refuses anything that is not a plain https URL on an allowed host', () => {
  it.each([
    ['http:', 'http://item.taobao.com/item.htm?id=1'],
    ['javascript:', 'javascript:alert(document.domain)//item.taobao.com'],
    ['javascript: with an allowed-looking host', 'javascript://item.taobao.com/%0aalert(1)'],
    ['data:', 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=='],
    ['ftp:', 'ftp://item.taobao.com/'],
    ['wss:', 'wss://item.taobao.com/'],
    ['a relative path', '/item.htm?id=1'],
    ['protocol-relative //evil.example', '//evil.example'],
    ['protocol-relative to an allowed host', '//item.taobao.com/item.htm'],
    ['user info before an allowed host', 'https://user:pass@item.taobao.com/'],
    ['an allowed host used as user info', 'https://item.taobao.com@evil.example'],
    ['an allowed host used as user info, with a path', 'https://item.taobao.com@evil.example/item.htm'],
    ['an empty user info', 'https://@item.taobao.com/'],
    ['a port', 'https://item.taobao.com:8443/item.htm'],
    ['port 80 on https', 'https://item.taobao.com:80/'],
    ['a look-alike host ending in the same letters', 'https://eviltaobao.com/'],
    ['the allowed domain as a subdomain of another', 'https://taobao.com.evil.example/'],
    ['a trailing-dot look-alike', 'https://taobao.com.evil./'],
    ['an allowed host with a trailing dot', 'https://item.taobao.com./'],
    ['a Cyrillic а in taobao', 'https://tаobao.com/'],
    ['a Cyrillic а in a subdomain of a look-alike', 'https://item.tаobao.com/'],
    ['a Cyrillic о in tmall', 'https://detail.tmall.cоm/'],
    ['a punycode look-alike written out', 'https://xn--tobao-4ve.com/'],
    ['an IP address', 'https://127.0.0.1/'],
    ['an IPv6 address', 'https://[::1]/'],
    ['a backslash after the host', 'https://item.taobao.com\\@evil.example/'],
    ['a backslash as slash', 'https:\\\\evil.example\\item.taobao.com'],
    ['a backslash in the path', 'https://item.taobao.com/a\\b'],
    ['a leading space', ' https://item.taobao.com/'],
    ['a trailing newline', 'https://item.taobao.com/\n'],
    ['a tab in the host', 'https://item.tao\tbao.com/'],
    ['a newline in the scheme', 'ht\ntps://item.taobao.com/'],
    ['a space in the path', 'https://item.taobao.com/a b'],
    ['a NUL', 'https://item.taobao.com/\u0000'],
    ['a DEL', 'https://item.taobao.com/\u007f'],
    ['a C1 control', 'https://item.taobao.com/\u0085'],
    ['a no-break space', 'https://item.taobao.com/\u00a0'],
    ['a line separator', 'https://item.taobao.com/\u2028'],
    ['a percent-encoded letter in the host', 'https://%69tem.taobao.com/'],
    ['a percent-encoded dot in the host', 'https://item%2etaobao.com/'],
    ['a percent-encoded @ in the authority', 'https://item.taobao.com%40evil.example/'],
    ['a percent-encoded slash in the authority', 'https://evil.example%2f.taobao.com/'],
    ['an empty string', ''],
    ['only a scheme', 'https://'],
    ['a bare host', 'item.taobao.com/item.htm'],
    // The gateway appends its own: a planted set would be what a store reading the first of each name takes.
    ['an hl_ parameter of its own', 'https://item.taobao.com/item.htm?id=1&hl_cid=planted'],
    ['an hl_ parameter first', 'https://item.taobao.com/item.htm?hl_lid=other&id=1'],
    ['an hl_ parameter in capitals', 'https://item.taobao.com/item.htm?id=1&HL_SIG=x'],
    ['a percent-encoded hl_ parameter', 'https://item.taobao.com/item.htm?id=1&h%6C_nid=x'],
  ])('refuses %s', (_, raw) => {
    expectRefused(raw);
  });

  it('refuses a URL longer than 2048 characters', () => {
    const prefix = 'https://item.taobao.com/item.htm?id=';
    const error = expectRefused(prefix + '1'.repeat(2049 - prefix.length));
    expect(error.detail).toContain('2048');
  });

  it('refuses a very long URL without hanging', () => {
    expectRefused(`https://item.taobao.com/${'a'.repeat(1_000_000)}`);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an object', { href: 'https://item.taobao.com/' }],
    ['a URL object', new URL('https://item.taobao.com/')],
    ['an array', ['https://item.taobao.com/']],
    ['a boxed string', new String('https://item.taobao.com/')],
  ])('refuses %s, which is not a string', (_, raw) => {
    expectRefused(raw);
  });

  it('reports a host that is not allowed with its own code, naming the host', () => {
    const error = expectRefused('https://evil.example/');
    expect(error.code).toBe('destination-not-allowed');
    expect(error.extra).toMatchObject({ host: 'evil.example' });
  });

  it('refuses hosts a custom allow-list does not name', () => {
    expect(() => parseDestination('https://item.taobao.com/', ['.tmall.com'])).toThrow(HanglinkError);
    expect(parseDestination('https://detail.tmall.com/', ['.tmall.com']).url).toBe('https://detail.tmall.com/');
  });
});

// The corpus lives outside the repo, next to it in the workspace (see ../shared/corpora/README.md).
const REPO_ROOT = new URL('../../', import.meta.url);
const CORPUS = fileURLToPath(new URL('../shared/corpora/open-redirect-payloads.txt', REPO_ROOT));
const corpusPresent = existsSync(CORPUS);
if (!corpusPresent) console.log(`open-redirect corpus missing at ${CORPUS}: skipping the corpus test`);

const CORPUS_CASE = 'never leads to a host that is not allowed: each line is refused or stays on an allowed https host';

describe('the open-redirect corpus', () => {
  it.skipIf(!corpusPresent)(corpusPresent ? CORPUS_CASE : `SKIPPED, corpus missing at ${CORPUS}: ${CORPUS_CASE}`, () => {
    const lines = readFileSync(CORPUS, 'utf8')
      .split(/\r?\n/)
      .filter((line) => line !== '')
      .map((line) => line.replaceAll('www.whitelisteddomain.tld', 'item.taobao.com'));
    expect(lines.length).toBeGreaterThanOrEqual(200);

    let refused = 0;
    const escapes: string[] = [];
    for (const line of lines) {
      let accepted: string;
      try {
        accepted = parseDestination(line, ALLOWED).url;
      } catch (error) {
        expect(error, line).toBeInstanceOf(HanglinkError);
        expect((error as HanglinkError).kind, line).toBe('invalid');
        refused++;
        continue;
      }
      const target = new URL(accepted);
      if (target.protocol !== 'https:' || !hostAllowed(target.hostname, ALLOWED)) escapes.push(`${line} -> ${accepted}`);
    }
    expect(escapes).toEqual([]);
    expect(refused).toBeGreaterThanOrEqual(200);
  });
});
