import { describe, expect, it } from 'vitest';
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
} from '../../src/domain/link.js';
import type { Merchant } from '../../src/domain/merchant.js';

const NOW = new Date('2025-03-01T00:00:05.000Z');
const RULES: LinkRules = {
  allowedHosts: DEFAULT_ALLOWED_HOSTS,
  categories: parseCategoryPolicy({ open: ['beauty', 'nutrition'], whitelist: ['health-check', 'medical-device'] }),
};
const MERCHANT: Merchant = { id: 'm1', name: 'Shop One', approvedCategories: [], createdAt: '2025-01-01T00:00:00.000Z' };
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
    const resolved = prepareForRedirect(expiring, DEFAULT_ALLOWED_HOSTS);
    expect(resolved.destination).toEqual({
      url: 'https://detail.tmall.com/item.htm?id=7#sku',
      base: 'https://detail.tmall.com/item.htm?id=7',
      fragment: '#sku',
      querySeparator: '&',
    });
    expect(resolved.expiresAtMs).toBe(Date.UTC(2025, 2, 2));
    expect(resolved.destinationAllowed).toBe(true);
    expect(prepareForRedirect(base, DEFAULT_ALLOWED_HOSTS).expiresAtMs).toBeNull();
  });

  it('redirects an active, unexpired link on an allowed host', () => {
    const resolved = prepareForRedirect(base, DEFAULT_ALLOWED_HOSTS);
    expect(resolveLink(resolved, nowMs)).toEqual({ outcome: 'redirect', resolved });
  });

  it('answers not-found when there is no link', () => {
    expect(resolveLink(null, nowMs)).toEqual({ outcome: 'not-found' });
  });

  it('answers gone/deleted for a deleted link, even one also expired', () => {
    const deleted = { ...base, status: 'deleted' as const, expiresAt: '2020-01-01T00:00:00.000Z' };
    expect(resolveLink(prepareForRedirect(deleted, DEFAULT_ALLOWED_HOSTS), nowMs)).toEqual({ outcome: 'gone', reason: 'deleted' });
  });

  it('answers gone/paused for a paused link', () => {
    const paused = { ...base, status: 'paused' as const };
    expect(resolveLink(prepareForRedirect(paused, DEFAULT_ALLOWED_HOSTS), nowMs)).toEqual({ outcome: 'gone', reason: 'paused' });
  });

  it('answers gone/expired from the expiry instant on, and redirects just before it', () => {
    const resolved = prepareForRedirect({ ...base, expiresAt: '2025-03-02T00:00:00.000Z' }, DEFAULT_ALLOWED_HOSTS);
    const at = Date.UTC(2025, 2, 2);
    expect(resolveLink(resolved, at - 1).outcome).toBe('redirect');
    expect(resolveLink(resolved, at)).toEqual({ outcome: 'gone', reason: 'expired' });
    expect(resolveLink(resolved, at + 86_400_000)).toEqual({ outcome: 'gone', reason: 'expired' });
  });

  it('answers gone/destination-not-allowed once the operator removes the host from the allowed list', () => {
    const resolved = prepareForRedirect(base, ['.taobao.com']);
    expect(resolved.destinationAllowed).toBe(false);
    expect(resolveLink(resolved, nowMs)).toEqual({ outcome: 'gone', reason: 'destination-not-allowed' });
  });
});
