import { describe, expect, it } from 'vitest';
import { DEFAULT_APP_SCHEMES } from '../../src/domain/app-link.js';
import { parseCategoryPolicy } from '../../src/domain/categories.js';
import { DEFAULT_ALLOWED_HOSTS } from '../../src/domain/destination.js';
import { HanglinkError } from '../../src/domain/errors.js';
import {
  applyPatch,
  buildLink,
  type Link,
  type LinkRules,
  type NewLinkInput,
  prepareForRedirect,
  resolveLink,
  withDefaults,
} from '../../src/domain/link.js';
import type { Merchant } from '../../src/domain/merchant.js';

const NOW = new Date('2025-03-01T00:00:05.000Z');
const RULES: LinkRules = {
  allowedHosts: DEFAULT_ALLOWED_HOSTS,
  categories: parseCategoryPolicy({ open: ['beauty', 'nutrition'], whitelist: ['health-check', 'medical-device'] }),
  appSchemes: DEFAULT_APP_SCHEMES,
};
const MERCHANT: Merchant = { id: 'm1', name: 'Shop One', approvedCategories: [], currency: 'CNY', createdAt: '2025-01-01T00:00:00.000Z' };
const APP_URL = 'taobao://item.taobao.com/item.htm?id=1';
const INPUT: NewLinkInput = { url: 'https://item.taobao.com/item.htm?id=1', noteId: 'note-42', category: 'beauty' };

function refusal(run: () => unknown): HanglinkError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HanglinkError);
    return error as HanglinkError;
  }
  throw new Error('expected a HanglinkError, but nothing was thrown');
}

const build = (input: Partial<NewLinkInput>, merchant: Merchant = MERCHANT) =>
  buildLink({ ...INPUT, ...input }, 'Gen3rated', merchant, RULES, NOW);

describe('buildLink', () => {
  it('builds an active link under the generated code, owned by the merchant, stamped now', () => {
    expect(build({})).toEqual({
      code: 'Gen3rated',
      merchantId: 'm1',
      url: 'https://item.taobao.com/item.htm?id=1',
      noteId: 'note-42',
      campaignId: null,
      category: 'beauty',
      externalId: null,
      expiresAt: null,
      appUrl: null,
      ios: null,
      android: null,
      desktop: null,
      maxClicks: null,
      status: 'active',
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
    });
  });

  it('keeps the optional campaign and external ids', () => {
    const link = build({ campaignId: 'spring', externalId: 'erp:123' });
    expect(link.campaignId).toBe('spring');
    expect(link.externalId).toBe('erp:123');
  });

  it('stores the vetted, normalised destination', () => {
    expect(build({ url: 'HTTPS://Item.Taobao.com/item.htm?id=1#sku' }).url).toBe('https://item.taobao.com/item.htm?id=1#sku');
  });

  it('refuses a destination that is not allowed, whatever else is right', () => {
    expect(refusal(() => build({ url: 'https://evil.example/' }))).toMatchObject({ kind: 'invalid', code: 'destination-not-allowed' });
    expect(refusal(() => build({ url: 'http://item.taobao.com/' }))).toMatchObject({ kind: 'invalid', code: 'invalid-destination' });
  });

  describe('slugs', () => {
    it.each(['abc', 'spring-sale_2025', 'A'.repeat(64), 'Admin1', 'v1x'])('uses the valid slug %s as the code', (slug) => {
      expect(build({ slug }).code).toBe(slug);
    });

    it.each([
      ['too short', 'ab'],
      ['too long', 'a'.repeat(65)],
      ['with a dot', 'spring.sale'],
      ['with a slash', 'spring/sale'],
      ['with a space', 'spring sale'],
      ['with a percent sign', 'spring%20'],
      ['non-ASCII', 'sälé-2025'],
      ['empty', ''],
    ])('refuses a slug %s as invalid-slug', (_, slug) => {
      const error = refusal(() => build({ slug }));
      expect(error).toMatchObject({ kind: 'invalid', code: 'invalid-slug' });
      expect(error.extra).toMatchObject({ field: 'slug' });
    });

    it.each(['admin', 'ADMIN', 'Admin', 'healthz', 'readyz', 'openapi', 'docs', 'Docs'])(
      'refuses the reserved slug %s as taken, whatever its case',
      (slug) => {
        expect(refusal(() => build({ slug }))).toMatchObject({ kind: 'conflict', code: 'slug-taken' });
      },
    );

    it('cannot produce a code the gateway routes use, even those a slug cannot spell', () => {
      for (const slug of ['v1', 'i', 'favicon.ico', 'robots.txt']) {
        expect(() => build({ slug }), slug).toThrow(HanglinkError);
      }
    });
  });

  describe.each(['noteId', 'campaignId', 'externalId'] as const)('%s', (field) => {
    it.each(['a', 'note-42', 'xhs:note.64f1_a2', 'A'.repeat(128)])('accepts %s', (value) => {
      expect(build({ [field]: value })[field]).toBe(value);
    });

    it.each([
      ['empty', ''],
      ['too long', 'a'.repeat(129)],
      ['with a space', 'note 42'],
      ['with a slash', 'note/42'],
      ['with a query character', 'note?x=1'],
      ['with an ampersand', 'n&hl_sig=x'],
      ['with a hash', 'note#1'],
      ['with a Redis glob', 'note*'],
      ['non-ASCII', '笔记'],
      ['with a newline', 'note\n42'],
    ])('refuses a value %s', (_, value) => {
      const error = refusal(() => build({ [field]: value }));
      expect(error).toMatchObject({ kind: 'invalid', code: 'invalid-id' });
      expect(error.extra).toMatchObject({ field });
    });
  });

  describe('expiry', () => {
    it('stores a future ISO date-time in UTC', () => {
      expect(build({ expiresAt: '2025-03-02T08:00:00+08:00' }).expiresAt).toBe('2025-03-02T00:00:00.000Z');
    });

    it.each([
      ['in the past', '2025-02-28T23:59:59Z'],
      ['exactly now', NOW.toISOString()],
      ['not a date', 'next tuesday'],
      ['empty', ''],
    ])('refuses an expiry %s as invalid-expiry', (_, expiresAt) => {
      const error = refusal(() => build({ expiresAt }));
      expect(error).toMatchObject({ kind: 'invalid', code: 'invalid-expiry' });
      expect(error.extra).toMatchObject({ field: 'expiresAt' });
    });
  });

  describe('categories', () => {
    it('allows an open category to every merchant', () => {
      expect(build({ category: 'nutrition' }).category).toBe('nutrition');
    });

    it('refuses a whitelist category to a merchant without approval, as forbidden', () => {
      expect(refusal(() => build({ category: 'health-check' }))).toMatchObject({ kind: 'forbidden', code: 'category-not-approved' });
    });

    it('allows a whitelist category to a merchant approved for it, and only that one', () => {
      const approved = { ...MERCHANT, approvedCategories: ['health-check'] };
      expect(build({ category: 'health-check' }, approved).category).toBe('health-check');
      expect(refusal(() => build({ category: 'medical-device' }, approved)).kind).toBe('forbidden');
    });

    it('refuses a category the policy does not name, as invalid', () => {
      expect(refusal(() => build({ category: 'firearms' }))).toMatchObject({ kind: 'invalid', code: 'category-not-open' });
    });
  });

  describe('app deep link', () => {
    it('accepts an allowed scheme on an allowed host, scheme and host lowercased', () => {
      expect(build({ appUrl: 'TaoBao://Item.TAOBAO.com/item.htm?id=1' }).appUrl).toBe(APP_URL);
      expect(build({ appUrl: 'tmall://detail.tmall.com/item.htm?id=9' }).appUrl).toBe('tmall://detail.tmall.com/item.htm?id=9');
    });

    it.each([
      ['a scheme not configured', 'weixin://item.taobao.com/item.htm?id=1'],
      ['a scheme that runs script', 'javascript://item.taobao.com/item.htm?id=1'],
      ['a web url', 'https://item.taobao.com/item.htm?id=1'],
      ['a host not allowed', 'taobao://evil.example/item.htm?id=1'],
      ['a look-alike host', 'taobao://item.taobao.com.evil.example/item.htm'],
      ['user info', 'taobao://evil.example@item.taobao.com/item.htm'],
    ])('refuses %s as invalid-app-url', (_, appUrl) => {
      const error = refusal(() => build({ appUrl }));
      expect(error).toMatchObject({ kind: 'invalid', code: 'invalid-app-url' });
      expect(error.extra).toMatchObject({ field: 'appUrl' });
    });

    it('takes its schemes from the rules', () => {
      const rules: LinkRules = { ...RULES, appSchemes: ['tmall'] };
      expect(refusal(() => buildLink({ ...INPUT, appUrl: APP_URL }, 'Gen3rated', MERCHANT, rules, NOW)).code).toBe('invalid-app-url');
    });
  });

  describe.each(['ios', 'android', 'desktop'] as const)('%s destination', (field) => {
    it('is vetted like url and stored normalised', () => {
      expect(build({ [field]: 'HTTPS://Item.Taobao.com/item.htm?id=2#sku' })[field]).toBe('https://item.taobao.com/item.htm?id=2#sku');
    });

    it('refuses a host not allowed, naming the field', () => {
      const error = refusal(() => build({ [field]: 'https://evil.example/item' }));
      expect(error).toMatchObject({ kind: 'invalid', code: 'destination-not-allowed' });
      expect(error.extra).toMatchObject({ field, host: 'evil.example' });
    });

    it('refuses a url that is not https, naming the field', () => {
      const error = refusal(() => build({ [field]: 'http://item.taobao.com/item.htm' }));
      expect(error).toMatchObject({ kind: 'invalid', code: 'invalid-destination' });
      expect(error.extra).toMatchObject({ field });
    });

    it('leaves the other route fields empty', () => {
      const link = build({ [field]: 'https://item.taobao.com/item.htm?id=2' });
      const others = (['appUrl', 'ios', 'android', 'desktop'] as const).filter((other) => other !== field);
      for (const other of others) expect(link[other]).toBeNull();
    });
  });

  describe('click cap', () => {
    it.each([1, 2, 1_000_000])('keeps maxClicks %s', (maxClicks) => {
      expect(build({ maxClicks }).maxClicks).toBe(maxClicks);
    });

    it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('refuses maxClicks %s as invalid-max-clicks', (maxClicks) => {
      const error = refusal(() => build({ maxClicks }));
      expect(error).toMatchObject({ kind: 'invalid', code: 'invalid-max-clicks' });
      expect(error.extra).toMatchObject({ field: 'maxClicks' });
    });
  });
});

describe('applyPatch', () => {
  const link = build({ expiresAt: '2025-06-01T00:00:00Z' });
  const LATER = new Date('2025-03-05T12:00:00.000Z');

  it('changes nothing but updatedAt for an empty patch, and leaves the original untouched', () => {
    const before = structuredClone(link);
    const patched = applyPatch(link, {}, RULES, LATER);
    expect(patched).toEqual({ ...link, updatedAt: LATER.toISOString() });
    expect(link).toEqual(before);
  });

  it('pauses and resumes', () => {
    const paused = applyPatch(link, { status: 'paused' }, RULES, LATER);
    expect(paused.status).toBe('paused');
    expect(applyPatch(paused, { status: 'active' }, RULES, LATER).status).toBe('active');
  });

  it('re-vets a new url: an allowed one is stored normalised, another is refused', () => {
    expect(applyPatch(link, { url: 'https://DETAIL.tmall.com/item.htm?id=9' }, RULES, LATER).url).toBe(
      'https://detail.tmall.com/item.htm?id=9',
    );
    expect(refusal(() => applyPatch(link, { url: 'https://item.taobao.com@evil.example/' }, RULES, LATER)).kind).toBe('invalid');
    expect(refusal(() => applyPatch(link, { url: 'https://evil.example/' }, RULES, LATER)).code).toBe('destination-not-allowed');
  });

  it('clears the expiry with null, keeps it when absent, and re-checks a new one against now', () => {
    expect(applyPatch(link, { expiresAt: null }, RULES, LATER).expiresAt).toBeNull();
    expect(applyPatch(link, { status: 'paused' }, RULES, LATER).expiresAt).toBe(link.expiresAt);
    expect(applyPatch(link, { expiresAt: '2025-04-01T00:00:00Z' }, RULES, LATER).expiresAt).toBe('2025-04-01T00:00:00.000Z');
    expect(refusal(() => applyPatch(link, { expiresAt: '2025-03-04T00:00:00Z' }, RULES, LATER)).code).toBe('invalid-expiry');
  });

  it('sets, keeps and clears (null) the app deep link and the platform destinations', () => {
    const patched = applyPatch(
      link,
      {
        appUrl: 'TMALL://Detail.Tmall.com/item.htm?id=9',
        ios: 'https://Item.Taobao.com/ios',
        android: 'https://item.taobao.com/android',
        desktop: 'https://detail.tmall.com/desktop',
      },
      RULES,
      LATER,
    );
    expect(patched).toMatchObject({
      appUrl: 'tmall://detail.tmall.com/item.htm?id=9',
      ios: 'https://item.taobao.com/ios',
      android: 'https://item.taobao.com/android',
      desktop: 'https://detail.tmall.com/desktop',
    });
    const kept = applyPatch(patched, { android: null }, RULES, LATER);
    expect(kept).toMatchObject({ appUrl: patched.appUrl, ios: patched.ios, android: null, desktop: patched.desktop });
    const cleared = applyPatch(kept, { appUrl: null, ios: null, desktop: null }, RULES, LATER);
    expect(cleared).toMatchObject({ appUrl: null, ios: null, android: null, desktop: null });
  });

  it('re-vets a new app deep link or platform destination', () => {
    const appError = refusal(() => applyPatch(link, { appUrl: 'weixin://item.taobao.com/x' }, RULES, LATER));
    expect(appError).toMatchObject({ code: 'invalid-app-url', extra: { field: 'appUrl' } });
    const iosError = refusal(() => applyPatch(link, { ios: 'https://evil.example/' }, RULES, LATER));
    expect(iosError).toMatchObject({ code: 'destination-not-allowed', extra: { field: 'ios' } });
  });

  it('sets, keeps and clears (null) the click cap, and checks a new one', () => {
    const capped = applyPatch(link, { maxClicks: 100 }, RULES, LATER);
    expect(capped.maxClicks).toBe(100);
    expect(applyPatch(capped, { status: 'paused' }, RULES, LATER).maxClicks).toBe(100);
    expect(applyPatch(capped, { maxClicks: null }, RULES, LATER).maxClicks).toBeNull();
    for (const maxClicks of [0, -1, 1.5]) {
      expect(refusal(() => applyPatch(capped, { maxClicks }, RULES, LATER))).toMatchObject({ code: 'invalid-max-clicks' });
    }
  });

  it('refuses any change to a deleted link, as gone', () => {
    const deleted: Link = { ...link, status: 'deleted' };
    for (const patch of [{}, { status: 'active' as const }, { url: INPUT.url }, { expiresAt: null }]) {
      expect(refusal(() => applyPatch(deleted, patch, RULES, LATER))).toMatchObject({ kind: 'gone', code: 'link-deleted' });
    }
  });
});

describe('prepareForRedirect and resolveLink', () => {
  const base = build({ url: 'https://detail.tmall.com/item.htm?id=7#sku' });
  const nowMs = NOW.getTime();

  it('pre-splits the destination and parses the expiry once', () => {
    const expiring = { ...base, expiresAt: '2025-03-02T00:00:00.000Z' };
    const resolved = prepareForRedirect(expiring, DEFAULT_ALLOWED_HOSTS, 0);
    expect(resolved.destination).toEqual({
      url: 'https://detail.tmall.com/item.htm?id=7#sku',
      base: 'https://detail.tmall.com/item.htm?id=7',
      fragment: '#sku',
      querySeparator: '&',
    });
    expect(resolved.expiresAtMs).toBe(Date.UTC(2025, 2, 2));
    expect(resolved.destinationAllowed).toBe(true);
    expect(prepareForRedirect(base, DEFAULT_ALLOWED_HOSTS, 0).expiresAtMs).toBeNull();
  });

  it('redirects an active, unexpired link on an allowed host', () => {
    const resolved = prepareForRedirect(base, DEFAULT_ALLOWED_HOSTS, 0);
    expect(resolveLink(resolved, nowMs)).toEqual({ outcome: 'redirect', resolved });
  });

  it('answers not-found when there is no link', () => {
    expect(resolveLink(null, nowMs)).toEqual({ outcome: 'not-found' });
  });

  it('answers gone/deleted for a deleted link, even one also expired', () => {
    const deleted = { ...base, status: 'deleted' as const, expiresAt: '2020-01-01T00:00:00.000Z' };
    expect(resolveLink(prepareForRedirect(deleted, DEFAULT_ALLOWED_HOSTS, 0), nowMs)).toEqual({ outcome: 'gone', reason: 'deleted' });
  });

  it('answers gone/paused for a paused link', () => {
    const paused = { ...base, status: 'paused' as const };
    expect(resolveLink(prepareForRedirect(paused, DEFAULT_ALLOWED_HOSTS, 0), nowMs)).toEqual({ outcome: 'gone', reason: 'paused' });
  });

  it('answers gone/expired from the expiry instant on, and redirects just before it', () => {
    const resolved = prepareForRedirect({ ...base, expiresAt: '2025-03-02T00:00:00.000Z' }, DEFAULT_ALLOWED_HOSTS, 0);
    const at = Date.UTC(2025, 2, 2);
    expect(resolveLink(resolved, at - 1).outcome).toBe('redirect');
    expect(resolveLink(resolved, at)).toEqual({ outcome: 'gone', reason: 'expired' });
    expect(resolveLink(resolved, at + 86_400_000)).toEqual({ outcome: 'gone', reason: 'expired' });
  });

  it('answers gone/destination-not-allowed once the operator removes the host from the allowed list', () => {
    const resolved = prepareForRedirect(base, ['.taobao.com'], 0);
    expect(resolved.destinationAllowed).toBe(false);
    expect(resolveLink(resolved, nowMs)).toEqual({ outcome: 'gone', reason: 'destination-not-allowed' });
  });

  it('answers gone/click-cap-reached once the billable clicks reach the cap, and redirects below it', () => {
    const capped = { ...base, maxClicks: 3 };
    expect(resolveLink(prepareForRedirect(capped, DEFAULT_ALLOWED_HOSTS, 0), nowMs).outcome).toBe('redirect');
    expect(resolveLink(prepareForRedirect(capped, DEFAULT_ALLOWED_HOSTS, 2), nowMs).outcome).toBe('redirect');
    expect(resolveLink(prepareForRedirect(capped, DEFAULT_ALLOWED_HOSTS, 3), nowMs)).toEqual({ outcome: 'gone', reason: 'click-cap-reached' });
    expect(resolveLink(prepareForRedirect(capped, DEFAULT_ALLOWED_HOSTS, 40), nowMs)).toEqual({ outcome: 'gone', reason: 'click-cap-reached' });
    expect(prepareForRedirect(capped, DEFAULT_ALLOWED_HOSTS, 2).clicksSoFar).toBe(2);
  });

  it('never caps a link without maxClicks', () => {
    expect(resolveLink(prepareForRedirect(base, DEFAULT_ALLOWED_HOSTS, 1_000_000), nowMs).outcome).toBe('redirect');
  });

  it('answers gone/paused before click-cap-reached', () => {
    const paused = { ...base, status: 'paused' as const, maxClicks: 1 };
    expect(resolveLink(prepareForRedirect(paused, DEFAULT_ALLOWED_HOSTS, 5), nowMs)).toEqual({ outcome: 'gone', reason: 'paused' });
  });

  it.each([
    ['ios', { ios: 'https://item.taobao.com/ios' }],
    ['android', { android: 'https://item.taobao.com/android' }],
    ['desktop', { desktop: 'https://item.taobao.com/desktop' }],
    ['appUrl', { appUrl: APP_URL }],
  ])('disallows the link once the host of its %s leaves the allowed list', (_, routes) => {
    const routed = { ...base, ...routes };
    expect(prepareForRedirect(routed, DEFAULT_ALLOWED_HOSTS, 0).destinationAllowed).toBe(true);
    const resolved = prepareForRedirect(routed, ['.tmall.com'], 0);
    expect(resolved.destinationAllowed).toBe(false);
    expect(resolveLink(resolved, nowMs)).toEqual({ outcome: 'gone', reason: 'destination-not-allowed' });
  });

  it.each([
    ['url', { url: 'https://item.taobao.com/item.htm?id=1&hl_cid=planted' }],
    ['ios', { ios: 'https://item.taobao.com/ios?hl_lid=other' }],
    ['appUrl', { appUrl: 'taobao://item.taobao.com/item.htm?id=1&HL_SIG=x' }],
  ])('disallows a link stored with hl_ parameters in its %s (from before they were refused at mint)', (_, routes) => {
    const resolved = prepareForRedirect({ ...base, ...routes }, DEFAULT_ALLOWED_HOSTS, 0);
    expect(resolved.destinationAllowed).toBe(false);
    expect(resolveLink(resolved, nowMs)).toEqual({ outcome: 'gone', reason: 'destination-not-allowed' });
  });

  it('routes by device only when a route field is set', () => {
    expect(prepareForRedirect(base, DEFAULT_ALLOWED_HOSTS, 0).routesByDevice).toBe(false);
    expect(prepareForRedirect({ ...base, maxClicks: 5 }, DEFAULT_ALLOWED_HOSTS, 0).routesByDevice).toBe(false);
    for (const routes of [{ appUrl: APP_URL }, { ios: INPUT.url }, { android: INPUT.url }, { desktop: INPUT.url }]) {
      expect(prepareForRedirect({ ...base, ...routes }, DEFAULT_ALLOWED_HOSTS, 0).routesByDevice, Object.keys(routes)[0]).toBe(true);
    }
  });

  it('reads a link stored before the route and cap fields existed with them null', () => {
    const old: Partial<Link> = { ...base, appUrl: APP_URL, maxClicks: 9 };
    for (const field of ['appUrl', 'ios', 'android', 'desktop', 'maxClicks'] as const) delete old[field];
    const stored = JSON.parse(JSON.stringify(old)) as Link;
    const filled = withDefaults(stored);
    expect(filled).toEqual({ ...base, appUrl: null, ios: null, android: null, desktop: null, maxClicks: null });
    expect(withDefaults({ ...base, appUrl: APP_URL, maxClicks: 7 })).toMatchObject({ appUrl: APP_URL, maxClicks: 7 });
    const resolved = prepareForRedirect(stored, DEFAULT_ALLOWED_HOSTS, 1_000);
    expect(resolved.link).toEqual(filled);
    expect(resolved.routesByDevice).toBe(false);
    expect(resolveLink(resolved, nowMs).outcome).toBe('redirect');
  });
});
