import { describe, expect, it } from 'vitest';
import { DEFAULT_APP_SCHEMES, parseAppUrl } from '../../src/domain/app-link.js';
import { DEFAULT_ALLOWED_HOSTS } from '../../src/domain/destination.js';
import { HanglinkError } from '../../src/domain/errors.js';

const parse = (raw: unknown) => parseAppUrl(raw, DEFAULT_APP_SCHEMES, DEFAULT_ALLOWED_HOSTS);

function refusalOf(raw: unknown, schemes: readonly string[] = DEFAULT_APP_SCHEMES, field?: string): HanglinkError {
  let accepted: unknown;
  try {
    accepted = parseAppUrl(raw, schemes, DEFAULT_ALLOWED_HOSTS, field);
  } catch (error) {
    expect(error).toBeInstanceOf(HanglinkError);
    const refusal = error as HanglinkError;
    expect(refusal.kind).toBe('invalid');
    expect(refusal.code).toBe('invalid-app-url');
    return refusal;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused, but it was accepted as ${JSON.stringify(accepted)}`);
}

describe('parseAppUrl accepts marketplace app item links', () => {
  it.each([
    'taobao://item.taobao.com/item.htm?id=123',
    'tmall://detail.tmall.com/item.htm?id=9',
    'tmall://detail.tmall.com/item.htm?id=9&skuId=42&spm=a1z10.1-c.0.0',
    'taobao://item.taobao.com/item.htm?id=123&title=%E5%A5%B3%E8%A3%85',
    'taobao://taobao.com/',
    'taobao://shop105437.taobao.com/index.htm',
  ])('%s', (raw) => {
    expect(parse(raw)).toBe(raw);
  });

  it('lowercases the scheme and the host, and keeps path and query as given', () => {
    expect(parse('TaoBao://Item.TAOBAO.com/Item.htm?ID=123')).toBe('taobao://item.taobao.com/Item.htm?ID=123');
  });

  it('compares configured schemes without regard to case', () => {
    expect(parseAppUrl('taobao://item.taobao.com/item.htm?id=1', ['TAOBAO'], DEFAULT_ALLOWED_HOSTS)).toBe(
      'taobao://item.taobao.com/item.htm?id=1',
    );
  });
});

describe('parseAppUrl refuses', () => {
  it.each([
    ['an https URL', 'https://item.taobao.com/item.htm?id=123'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a javascript: URL shaped like an app link', 'javascript://item.taobao.com/%0Aalert(1)'],
    ['an unlisted scheme', 'weixin://item.taobao.com/item.htm?id=1'],
    ['an intent: URL', 'intent://item.taobao.com/item.htm#Intent;scheme=taobao;end'],
    ['a host outside the allowed hosts', 'taobao://evil.example/item.htm?id=1'],
    ['a host that only ends like an allowed one', 'taobao://eviltaobao.com/item.htm?id=1'],
    ['a trailing-dot host', 'taobao://item.taobao.com./item.htm?id=1'],
    ['user info', 'taobao://user@item.taobao.com/item.htm?id=1'],
    ['user info hiding the real host', 'taobao://item.taobao.com@evil.example/item.htm'],
    ['a port', 'taobao://item.taobao.com:8080/item.htm?id=1'],
    ['a percent-encoded host', 'taobao://item%2etaobao.com/item.htm'],
    ['a missing host', 'taobao:///item.htm?id=1'],
    ['a missing path', 'taobao://item.taobao.com?id=1'],
    ['attribution parameters of its own', 'taobao://item.taobao.com/item.htm?id=1&hl_cid=planted'],
    ['a percent-encoded attribution parameter', 'taobao://item.taobao.com/item.htm?id=1&%68l_sig=x'],
    ['no slashes', 'taobao:item.taobao.com/item.htm'],
    ['a fragment', 'taobao://item.taobao.com/item.htm?id=1#top'],
    ['a backslash', 'taobao://item.taobao.com\\@evil.example/item.htm'],
    ['whitespace', 'taobao://item.taobao.com/item.htm?id=1 2'],
    ['a control character', 'taobao://item.taobao.com/item.htm?id=1\u0000'],
    ['a newline', 'taobao://item.taobao.com/item.htm\n?id=1'],
    ['a quote', 'taobao://item.taobao.com/item.htm?id="1"'],
    ['an angle bracket', 'taobao://item.taobao.com/item.htm?id=<script>'],
    ['a malformed percent escape', 'taobao://item.taobao.com/item.htm?id=%zz'],
    ['non-ASCII text', 'taobao://item.taobao.com/item.htm?title=女装'],
    ['garbage', '::::'],
    ['the empty string', ''],
    ['an overlong URL', `taobao://item.taobao.com/item.htm?id=${'1'.repeat(2100)}`],
  ])('%s', (_name, raw) => {
    refusalOf(raw);
  });

  it.each([
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['an object', { href: 'taobao://item.taobao.com/item.htm' }],
  ])('%s instead of a string', (_name, raw) => {
    refusalOf(raw);
  });

  it('a script-running scheme even when the configuration lists it', () => {
    refusalOf('javascript://item.taobao.com/%0Aalert(1)', ['javascript', 'taobao']);
    refusalOf('data://item.taobao.com/text/html', ['data']);
  });

  it('saying what was wrong with the authority', () => {
    expect(refusalOf('taobao://user:pass@item.taobao.com/item.htm').detail).toContain('user info');
    expect(refusalOf('taobao://item.taobao.com:443/item.htm').detail).toContain('port');
    expect(refusalOf('taobao://evil.example/item.htm').detail).toContain('"evil.example" is not on the allowed hosts');
  });

  it('naming the field it was given', () => {
    expect(refusalOf('https://item.taobao.com/', DEFAULT_APP_SCHEMES, 'routes.appUrl').extra).toEqual({ field: 'routes.appUrl' });
    expect(refusalOf(7).extra).toEqual({ field: 'appUrl' });
  });
});
