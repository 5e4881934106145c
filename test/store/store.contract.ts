import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ClickKind, type ClickPolicy, DEFAULT_CLICK_POLICY, type StoredClick } from '../../src/domain/click.js';
import { HanglinkError } from '../../src/domain/errors.js';
import { ClicksOutOfOrder } from '../../src/store/errors.js';
import { bucketsCovering, dayBucket } from '../../src/domain/time-buckets.js';
import type { Link } from '../../src/domain/link.js';
import type { Merchant } from '../../src/domain/merchant.js';
import type {
  ClassifiedClick,
  ClickOrigin,
  ClickPage,
  CounterIncrement,
  CounterName,
  GroupCounters,
  GroupType,
  LinkFilter,
  Order,
  Store,
} from '../../src/store/types.js';

export interface StoreUnderTest {
  store: Store;
  /** The clicks the store recorded for a merchant, oldest first, each with the kind it was judged. */
  readClicks(merchantId: string): Promise<ClassifiedClick[]>;
  cleanup(): Promise<void>;
}

export interface StoreOptionsUnderTest {
  clickPolicy?: ClickPolicy;
}

const BASE_MS = Date.parse('2025-03-01T00:00:00.000Z');
const MINUTE = 60_000;

function merchant(id: string): Merchant {
  return { id, name: `Merchant ${id}`, approvedCategories: [], currency: 'CNY', createdAt: new Date(BASE_MS).toISOString() };
}

/** A link created `second` seconds after BASE_MS; later seconds are newer. */
function link(code: string, second: number, fields: Partial<Link> = {}): Link {
  const at = new Date(BASE_MS + second * 1000).toISOString();
  return {
    code,
    merchantId: 'm1',
    url: `https://shop.example/p/${code}`,
    noteId: 'note-1',
    campaignId: null,
    category: 'fashion',
    externalId: null,
    expiresAt: null,
    appUrl: null,
    ios: null,
    android: null,
    desktop: null,
    maxClicks: null,
    status: 'active',
    createdAt: at,
    updatedAt: at,
    ...fields,
  };
}

/** A human tap by visitor-1 on code-a, five seconds past BASE_MS. */
function click(clickId: string, fields: Partial<StoredClick> = {}): StoredClick {
  return {
    clickId,
    linkCode: 'code-a',
    merchantId: 'm1',
    noteId: 'note-1',
    campaignId: 'spring',
    at: BASE_MS + 5000,
    userAgent: 'Mozilla/5.0 (iPhone)',
    referrer: 'https://notes.example/n/1',
    acceptLanguage: 'zh-CN,zh;q=0.9',
    ipPrefix: '203.0.113.0/24',
    route: 'web',
    visitorId: 'visitor-1',
    bot: false,
    deviceType: 'mobile',
    platform: 'ios',
    os: 'iOS',
    osVersion: '17.4',
    browser: 'Mobile Safari',
    browserVersion: '17.4',
    inApp: '',
    ...fields,
  };
}

const codes = (links: readonly Link[]) => links.map((l) => l.code);

const GROUP_TYPES: readonly GroupType[] = ['merchant', 'campaign', 'note', 'link'];

/** Expected readCounters answers, written as plain objects: group id -> bucket -> counters. */
function groups(expected: Record<string, Record<string, Partial<Record<CounterName, number>>>>): Map<string, GroupCounters> {
  return new Map(Object.entries(expected).map(([id, buckets]) => [id, new Map(Object.entries(buckets))]));
}

export function describeStoreContract(name: string, make: (options?: StoreOptionsUnderTest) => Promise<StoreUnderTest>): void {
  describe(`${name} store`, () => {
    let subject: StoreUnderTest;
    let store: Store;
    let extraSubjects: StoreUnderTest[] = [];

    beforeEach(async () => {
      subject = await make();
      store = subject.store;
      extraSubjects = [];
    });
    afterEach(async () => {
      await subject.cleanup();
      for (const extra of extraSubjects) await extra.cleanup();
    });

    /** A second, empty store under a custom click policy; cleaned up after the test. */
    async function storeWithPolicy(clickPolicy: ClickPolicy): Promise<StoreUnderTest> {
      const extra = await make({ clickPolicy });
      extraSubjects.push(extra);
      return extra;
    }

    async function createAll(links: readonly Link[]): Promise<void> {
      const results = await Promise.all(links.map((l) => store.createLink(l)));
      expect(results.every((r) => r.created)).toBe(true);
    }

    /** Every link a filter lists, following cursors page by page. */
    async function listEverything(merchantId: string, filter: LinkFilter, pageSize: number) {
      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const page = await store.listLinks(merchantId, filter, pageSize, cursor);
        pages.push(codes(page.links));
        cursor = page.nextCursor;
      } while (cursor !== null);
      return pages;
    }

    it('answers a ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    describe('merchants', () => {
      it('finds a created merchant by id and by its API key hash', async () => {
        await store.createMerchant(merchant('m1'), 'hash-1');
        expect(await store.getMerchant('m1')).toEqual(merchant('m1'));
        expect(await store.merchantByKeyHash('hash-1')).toEqual(merchant('m1'));
      });

      it('finds nothing for an unknown id or key hash', async () => {
        await store.createMerchant(merchant('m1'), 'hash-1');
        expect(await store.getMerchant('nobody')).toBeNull();
        expect(await store.merchantByKeyHash('hash-2')).toBeNull();
      });

      it('replaces the approved categories and keeps them', async () => {
        await store.createMerchant(merchant('m1'), 'hash-1');
        const expected = { ...merchant('m1'), approvedCategories: ['alcohol', 'tobacco'] };
        expect(await store.setApprovedCategories('m1', ['alcohol', 'tobacco'])).toEqual(expected);
        expect(await store.merchantByKeyHash('hash-1')).toEqual(expected);
        expect(await store.setApprovedCategories('m1', [])).toEqual(merchant('m1'));
      });

      it('approves nothing for an unknown merchant', async () => {
        expect(await store.setApprovedCategories('nobody', ['alcohol'])).toBeNull();
        expect(await store.getMerchant('nobody')).toBeNull();
      });
    });

    describe('links', () => {
      it('stores a new link and reads it back', async () => {
        const created = link('abc', 1, {
          campaignId: 'spring',
          externalId: 'sku-1',
          expiresAt: '2026-01-01T00:00:00.000Z',
          appUrl: 'taobao://item.taobao.com/item.htm?id=1',
          ios: 'https://shop.example/ios',
          android: 'https://shop.example/android',
          desktop: 'https://shop.example/desktop',
          maxClicks: 500,
        });
        expect(await store.createLink(created)).toEqual({ created: true, link: created });
        expect(await store.getLink('abc')).toEqual(created);
      });

      it('finds nothing for an unknown code', async () => {
        expect(await store.getLink('nope')).toBeNull();
      });

      it('refuses a taken code and keeps the first link', async () => {
        await createAll([link('abc', 1)]);
        const second = link('abc', 2, { merchantId: 'm2', url: 'https://other.example/' });
        expect(await store.createLink(second)).toEqual({ created: false, reason: 'code-taken' });
        expect(await store.getLink('abc')).toEqual(link('abc', 1));
        expect((await store.listLinks('m2', {}, 10, null)).links).toEqual([]);
      });

      it('returns the first link for a repeated external id and writes nothing new', async () => {
        const first = link('first', 1, { externalId: 'sku-1', campaignId: 'spring' });
        await createAll([first]);
        const retry = link('second', 2, { externalId: 'sku-1', campaignId: 'summer', noteId: 'note-2' });
        expect(await store.createLink(retry)).toEqual({ created: false, reason: 'external-id-exists', link: first });
        expect(await store.getLink('second')).toBeNull();
        expect(codes((await store.listLinks('m1', {}, 10, null)).links)).toEqual(['first']);
        expect((await store.listLinks('m1', { noteId: 'note-2' }, 10, null)).links).toEqual([]);
        expect((await store.listLinks('m1', { campaignId: 'summer' }, 10, null)).links).toEqual([]);
      });

      it('checks external ids per merchant', async () => {
        await createAll([link('first', 1, { externalId: 'sku-1' }), link('other', 2, { merchantId: 'm2', externalId: 'sku-1' })]);
        expect(await store.getLink('other')).not.toBeNull();
      });

      it('reports a repeated external id even when the code is also taken', async () => {
        const first = link('first', 1, { externalId: 'sku-1' });
        await createAll([first]);
        expect(await store.createLink(link('first', 2, { externalId: 'sku-1' }))).toEqual({
          created: false,
          reason: 'external-id-exists',
          link: first,
        });
      });

      it('replaces a link on save', async () => {
        await createAll([link('abc', 1)]);
        const paused = { ...link('abc', 1), status: 'paused' as const, url: 'https://shop.example/new', updatedAt: new Date(BASE_MS + 9000).toISOString() };
        expect(await store.saveLink(paused, link('abc', 1))).toBe(true);
        expect(await store.getLink('abc')).toEqual(paused);
        expect((await store.listLinks('m1', {}, 10, null)).links).toEqual([paused]);
      });

      it('saves nothing over a link that changed since it was read, and says so', async () => {
        const read = link('cas', 1, { campaignId: 'spring' });
        await createAll([read]);
        const deleted = { ...read, status: 'deleted' as const, updatedAt: new Date(BASE_MS + 5000).toISOString() };
        expect(await store.saveLink(deleted, read)).toBe(true);

        // A change derived from the link as it was before the delete must not bring it back.
        const stalePatch = { ...read, url: 'https://shop.example/late', updatedAt: new Date(BASE_MS + 6000).toISOString() };
        expect(await store.saveLink(stalePatch, read)).toBe(false);
        expect(await store.getLink('cas')).toEqual(deleted);
        expect((await store.listLinks('m1', {}, 10, null)).links).toEqual([]);
        expect(await store.saveLink({ ...read, code: 'never-made' }, { ...read, code: 'never-made' })).toBe(false);
        expect(await store.getLink('never-made')).toBeNull();
      });

      it('takes a deleted link out of every listing but still resolves it as deleted', async () => {
        const doomed = link('doomed', 2, { campaignId: 'spring', externalId: 'sku-1' });
        await createAll([link('kept', 1, { campaignId: 'spring' }), doomed]);
        expect(await store.saveLink({ ...doomed, status: 'deleted' }, doomed)).toBe(true);

        expect((await store.getLink('doomed'))?.status).toBe('deleted');
        for (const filter of [{}, { noteId: 'note-1' }, { campaignId: 'spring' }, { noteId: 'note-1', campaignId: 'spring' }]) {
          expect(codes((await store.listLinks('m1', filter, 10, null)).links)).toEqual(['kept']);
        }
        const again = await store.createLink(link('again', 3, { externalId: 'sku-1' }));
        expect(again).toMatchObject({ created: false, reason: 'external-id-exists', link: { code: 'doomed', status: 'deleted' } });
      });
    });

    describe('listing', () => {
      it('lists newest first', async () => {
        await createAll([link('middle', 2), link('oldest', 1), link('newest', 3)]);
        expect(await store.listLinks('m1', {}, 10, null)).toEqual({
          links: [link('newest', 3), link('middle', 2), link('oldest', 1)],
          nextCursor: null,
        });
      });

      it('pages through 25 links ten at a time without gaps or repeats', async () => {
        const all = Array.from({ length: 25 }, (_, i) => link(`link-${String(i).padStart(2, '0')}`, i));
        await createAll(all);
        const pages = await listEverything('m1', {}, 10);
        expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
        expect(pages.flat()).toEqual(codes(all).reverse());
      });

      it('gives no next cursor when a page ends exactly at the last link', async () => {
        await createAll([link('aaa', 1), link('bbb', 2)]);
        expect((await store.listLinks('m1', {}, 2, null)).nextCursor).toBeNull();
        expect(await listEverything('m1', {}, 1)).toEqual([['bbb'], ['aaa']]);
      });

      it('orders links created in the same millisecond by code, and pages through them', async () => {
        await createAll([link('ccc', 1), link('aaa', 1), link('bbb', 1), link('ddd', 2)]);
        expect(await listEverything('m1', {}, 1)).toEqual([['ddd'], ['ccc'], ['bbb'], ['aaa']]);
      });

      it('lists nothing for a merchant without links', async () => {
        expect(await store.listLinks('nobody', {}, 10, null)).toEqual({ links: [], nextCursor: null });
      });

      it('lists only the merchant’s own links', async () => {
        await createAll([link('mine', 1), link('theirs', 2, { merchantId: 'm2' })]);
        expect(codes((await store.listLinks('m1', {}, 10, null)).links)).toEqual(['mine']);
        expect(codes((await store.listLinks('m2', {}, 10, null)).links)).toEqual(['theirs']);
        expect(codes((await store.listLinks('m2', { noteId: 'note-1' }, 10, null)).links)).toEqual(['theirs']);
      });

      describe('filtered', () => {
        beforeEach(async () => {
          await createAll([
            link('n1-spring', 1, { noteId: 'n1', campaignId: 'spring' }),
            link('n1-none', 2, { noteId: 'n1' }),
            link('n2-spring', 3, { noteId: 'n2', campaignId: 'spring' }),
            link('n1-summer', 4, { noteId: 'n1', campaignId: 'summer' }),
            link('n1-spring-2', 5, { noteId: 'n1', campaignId: 'spring' }),
          ]);
        });

        it('by note', async () => {
          expect(await listEverything('m1', { noteId: 'n1' }, 10)).toEqual([['n1-spring-2', 'n1-summer', 'n1-none', 'n1-spring']]);
        });

        it('by campaign', async () => {
          expect(await listEverything('m1', { campaignId: 'spring' }, 10)).toEqual([['n1-spring-2', 'n2-spring', 'n1-spring']]);
        });

        it('by note and campaign together', async () => {
          expect(await listEverything('m1', { noteId: 'n1', campaignId: 'spring' }, 1)).toEqual([['n1-spring-2'], ['n1-spring']]);
        });

        it('by a note or campaign nobody used', async () => {
          expect(await listEverything('m1', { noteId: 'n9' }, 10)).toEqual([[]]);
          expect(await listEverything('m1', { campaignId: 'autumn' }, 10)).toEqual([[]]);
          expect(await listEverything('m1', { noteId: 'n2', campaignId: 'summer' }, 10)).toEqual([[]]);
        });
      });

      it.each([
        { every: 7, pageSize: 4 },
        { every: 40, pageSize: 3 },
      ])('finds note-and-campaign matches one in $every apart, $pageSize a page', async ({ every, pageSize }) => {
        const all = Array.from({ length: 150 }, (_, i) =>
          link(`link-${String(i).padStart(3, '0')}`, i, { campaignId: i % every === 0 ? 'rare' : 'common' }),
        );
        await createAll(all);
        const expected = codes(all.filter((l) => l.campaignId === 'rare')).reverse();
        const pages = await listEverything('m1', { noteId: 'note-1', campaignId: 'rare' }, pageSize);
        expect(pages.flat()).toEqual(expected);
        expect(pages.slice(0, -1).every((p) => p.length === pageSize)).toBe(true);
      });

      it.each([
        ['garbage', 'not a cursor!'],
        ['empty', ''],
        ['not a position', Buffer.from('hello').toString('base64url')],
        ['a position with a bad code', Buffer.from('001740787200000:a b').toString('base64url')],
        // Decodes to the valid position 001740787200000:abc, but is not how we wrote it.
        ['non-canonical', 'MDAxNzQwNzg3MjAwMDAwOmFiYx'],
      ])('refuses a %s cursor as a bad request', async (_, cursor) => {
        await createAll([link('abc', 1)]);
        const refusal = await store.listLinks('m1', {}, 10, cursor).catch((error: unknown) => error);
        expect(refusal).toBeInstanceOf(HanglinkError);
        expect(refusal).toMatchObject({ kind: 'invalid', code: 'invalid-cursor' });
      });
    });

    describe('clicks', () => {
      it('records every field of a written click, with the kind it was judged', async () => {
        const clicks = [
          click('c1'),
          click('c2', {
            campaignId: null,
            userAgent: '',
            referrer: '',
            acceptLanguage: '',
            ipPrefix: '',
            route: 'app',
            deviceType: 'unknown',
            platform: 'other',
            os: '',
            osVersion: '',
            browser: '',
            browserVersion: '',
            inApp: 'WeChat',
          }),
          click('c3', {
            visitorId: 'crawler',
            bot: true,
            route: 'desktop',
            deviceType: 'desktop',
            platform: 'desktop',
            os: 'Linux',
            browser: 'Googlebot',
            browserVersion: '2.1',
          }),
        ];
        await store.writeClicks(clicks);
        const judged: ClickKind[] = ['unique', 'repeat', 'bot'];
        expect(await subject.readClicks('m1')).toEqual(clicks.map((c, i) => ({ ...c, kind: judged[i] })));
      });

      it('keeps each merchant’s clicks apart', async () => {
        await store.writeClicks([click('c1'), click('c2', { merchantId: 'm2', linkCode: 'code-b' })]);
        expect((await subject.readClicks('m1')).map((c) => c.clickId)).toEqual(['c1']);
        expect((await subject.readClicks('m2')).map((c) => c.clickId)).toEqual(['c2']);
      });

      it('counts clicks per link, and zero for links nobody tapped', async () => {
        await store.writeClicks([click('c1'), click('c2'), click('c3', { linkCode: 'code-b' })]);
        await store.writeClicks([click('c4')]);
        expect(await store.clickCounts(['code-a', 'code-b', 'untapped'])).toEqual(
          new Map([['code-a', 3], ['code-b', 1], ['untapped', 0]]),
        );
      });

      it('counts a retried batch once', async () => {
        const batch = [click('c1'), click('c2', { linkCode: 'code-b' })];
        await store.writeClicks(batch);
        await store.writeClicks(batch);
        await store.writeClicks([...batch, click('c3')]);
        expect(await store.clickCounts(['code-a', 'code-b'])).toEqual(new Map([['code-a', 2], ['code-b', 1]]));
        expect((await subject.readClicks('m1')).map((c) => c.clickId)).toEqual(['c1', 'c2', 'c3']);
      });

      it('counts a click repeated within one batch once', async () => {
        await store.writeClicks([click('c1'), click('c1')]);
        expect(await store.clickCounts(['code-a'])).toEqual(new Map([['code-a', 1]]));
        expect(await subject.readClicks('m1')).toHaveLength(1);
      });

      it('writes nothing of a batch, and rejects, while the click named as before it is not written', async () => {
        await expect(store.writeClicks([click('c2'), click('c3')], 'c1')).rejects.toThrow(ClicksOutOfOrder);
        expect(await subject.readClicks('m1')).toEqual([]);
        expect(await store.clickCounts(['code-a'])).toEqual(new Map([['code-a', 0]]));

        await store.writeClicks([click('c1')]);
        await store.writeClicks([click('c2'), click('c3')], 'c1');
        expect((await subject.readClicks('m1')).map((c) => c.clickId)).toEqual(['c1', 'c2', 'c3']);
        expect(await store.clickCounts(['code-a'])).toEqual(new Map([['code-a', 3]]));
      });

      it('accepts an empty batch and an empty count request', async () => {
        await store.writeClicks([]);
        expect(await store.clickCounts([])).toEqual(new Map());
        expect(await subject.readClicks('m1')).toEqual([]);
      });
    });

    describe('click classification', () => {
      // Small numbers keep the cases short: a 10-minute repeat window, at most 3 taps a minute.
      const POLICY: ClickPolicy = { repeatWindowMs: 10 * MINUTE, floodLimitPerMinute: 3 };
      const T = BASE_MS + 5000;
      const DAY = 'd20250301';
      const kindsOf = async (s: StoreUnderTest, merchantId = 'm1') => (await s.readClicks(merchantId)).map((c) => c.kind);
      const linkCounters = async (s: Store, code: string) => (await s.readCounters('m1', 'link', [DAY])).get(code)?.get(DAY);

      it('judges a visitor’s first tap on a link unique, later taps within the window repeats, by click time', async () => {
        const s = await storeWithPolicy(POLICY);
        await s.store.writeClicks([click('c1', { at: T }), click('c2', { at: T + MINUTE }), click('c3', { at: T + 10 * MINUTE - 1 })]);
        // Written at once: only the clicks' own times say the window has passed.
        await s.store.writeClicks([
          click('c4', { at: T + 10 * MINUTE }),
          click('c5', { at: T + 19 * MINUTE }),
          click('c6', { at: T + 20 * MINUTE }),
        ]);
        expect(await kindsOf(s)).toEqual(['unique', 'repeat', 'repeat', 'unique', 'repeat', 'unique']);
        expect(await linkCounters(s.store, 'code-a')).toEqual({ clicks: 6, uniqueClicks: 3 });
        expect(await s.store.clickCounts(['code-a'])).toEqual(new Map([['code-a', 6]]));
      });

      it('judges a different visitor, or the same visitor on another link, unique', async () => {
        await store.writeClicks([
          click('c1'),
          click('c2', { visitorId: 'visitor-2' }),
          click('c3', { linkCode: 'code-b' }),
          click('c4'),
          click('c5', { visitorId: 'visitor-2', linkCode: 'code-b' }),
        ]);
        expect(await kindsOf(subject)).toEqual(['unique', 'unique', 'unique', 'repeat', 'unique']);
        expect(await linkCounters(store, 'code-a')).toEqual({ clicks: 3, uniqueClicks: 2 });
        expect(await linkCounters(store, 'code-b')).toEqual({ clicks: 2, uniqueClicks: 2 });
      });

      it('counts a bot click only as a bot click, and a bot does not make the visitor seen', async () => {
        await store.writeClicks([click('b1', { bot: true }), click('b2', { bot: true })]);
        expect(await kindsOf(subject)).toEqual(['bot', 'bot']);
        expect(await store.readCounters('m1', 'merchant', [DAY])).toEqual(new Map([['m1', new Map([[DAY, { botClicks: 2 }]])]]));
        expect(await store.clickCounts(['code-a'])).toEqual(new Map([['code-a', 0]]));
        await store.writeClicks([click('h1')]);
        expect(await kindsOf(subject)).toEqual(['bot', 'bot', 'unique']);
      });

      it('does not spend a visitor’s flood budget on bot clicks', async () => {
        const s = await storeWithPolicy(POLICY);
        const bots = Array.from({ length: 5 }, (_, i) => click(`bot-${i}`, { bot: true }));
        await s.store.writeClicks([...bots, click('h1'), click('h2'), click('h3'), click('h4')]);
        expect(await kindsOf(s)).toEqual(['bot', 'bot', 'bot', 'bot', 'bot', 'unique', 'repeat', 'repeat', 'suspect']);
        expect(await linkCounters(s.store, 'code-a')).toEqual({ botClicks: 5, clicks: 3, uniqueClicks: 1, suspectClicks: 1 });
        expect(await s.store.clickCounts(['code-a'])).toEqual(new Map([['code-a', 3]]));
      });

      it('judges taps past the flood limit in one minute suspect, per visitor and link, and starts afresh next minute', async () => {
        const s = await storeWithPolicy(POLICY);
        const flood = Array.from({ length: 5 }, (_, i) => click(`f${i}`, { at: T + i * 1000 }));
        await s.store.writeClicks(flood);
        await s.store.writeClicks([
          click('other-visitor', { at: T + 10_000, visitorId: 'visitor-2' }),
          click('other-link', { at: T + 10_000, linkCode: 'code-b' }),
        ]);
        const nextMinute = Array.from({ length: 4 }, (_, i) => click(`n${i}`, { at: T + MINUTE + i * 1000 }));
        await s.store.writeClicks(nextMinute);
        expect(await kindsOf(s)).toEqual([
          'unique', 'repeat', 'repeat', 'suspect', 'suspect',
          'unique', 'unique',
          'repeat', 'repeat', 'repeat', 'suspect',
        ]);
        expect(await linkCounters(s.store, 'code-a')).toEqual({ clicks: 7, uniqueClicks: 2, suspectClicks: 3 });
        expect(await s.store.clickCounts(['code-a', 'code-b'])).toEqual(new Map([['code-a', 7], ['code-b', 1]]));
      });

      it('judges a tap written after a later one by its own time, and never moves the window start back', async () => {
        const s = await storeWithPolicy(POLICY);
        await s.store.writeClicks([click('c20', { at: T + 20 * MINUTE })]);
        // Late, from another process or after an outage: 5 minutes before the window start, within a
        // window of it; then 15 minutes before it, a window of its own.
        await s.store.writeClicks([click('c15', { at: T + 15 * MINUTE })]);
        await s.store.writeClicks([click('c5', { at: T + 5 * MINUTE })]);
        // The window still starts at minute 20: minute 29 is in it, minute 31 is not.
        await s.store.writeClicks([click('c29', { at: T + 29 * MINUTE }), click('c31', { at: T + 31 * MINUTE })]);
        expect(await kindsOf(s)).toEqual(['unique', 'repeat', 'unique', 'repeat', 'unique']);
        expect(await linkCounters(s.store, 'code-a')).toEqual({ clicks: 5, uniqueClicks: 3 });
      });

      it('neither resets nor spends a later minute’s flood count with a tap from an earlier minute written after it', async () => {
        const s = await storeWithPolicy(POLICY);
        const laterMinute = T + 2 * MINUTE;
        await s.store.writeClicks([click('m2-1', { at: laterMinute }), click('m2-2', { at: laterMinute + 1000 }), click('m2-3', { at: laterMinute + 2000 })]);
        await s.store.writeClicks([click('m1-late', { at: T + MINUTE })]);
        // The fourth tap of the later minute is past the limit of 3, as it would be without the late one.
        await s.store.writeClicks([click('m2-4', { at: laterMinute + 3000 })]);
        expect(await kindsOf(s)).toEqual(['unique', 'repeat', 'repeat', 'repeat', 'suspect']);
        expect(await linkCounters(s.store, 'code-a')).toEqual({ clicks: 4, uniqueClicks: 1, suspectClicks: 1 });
      });

      it('judges a tap past the flood limit suspect even when it would otherwise be unique', async () => {
        const s = await storeWithPolicy({ repeatWindowMs: 1000, floodLimitPerMinute: 1 });
        await s.store.writeClicks([click('c1', { at: T }), click('c2', { at: T + 2000 }), click('c3', { at: T + MINUTE })]);
        expect(await kindsOf(s)).toEqual(['unique', 'suspect', 'unique']);
      });

      it('applies the default policy: 20 taps a minute, a 30-minute repeat window', async () => {
        expect(DEFAULT_CLICK_POLICY).toEqual({ repeatWindowMs: 30 * MINUTE, floodLimitPerMinute: 20 });
        const taps = Array.from({ length: 21 }, (_, i) => click(`t${i}`, { at: T + i * 100 }));
        await store.writeClicks(taps);
        await store.writeClicks([click('late', { at: T + 30 * MINUTE - 1 }), click('later', { at: T + 30 * MINUTE })]);
        expect(await kindsOf(subject)).toEqual(['unique', ...Array<ClickKind>(19).fill('repeat'), 'suspect', 'repeat', 'unique']);
      });

      it('counts only billable clicks (unique and repeat) per link', async () => {
        const s = await storeWithPolicy({ repeatWindowMs: 10 * MINUTE, floodLimitPerMinute: 1 });
        await s.store.writeClicks([
          click('unique', { at: T }),
          click('suspect', { at: T + 1000 }),
          click('bot', { at: T + 2000, bot: true }),
          click('repeat', { at: T + MINUTE }),
        ]);
        expect(await kindsOf(s)).toEqual(['unique', 'suspect', 'bot', 'repeat']);
        expect(await s.store.clickCounts(['code-a'])).toEqual(new Map([['code-a', 2]]));
        expect(await linkCounters(s.store, 'code-a')).toEqual({ clicks: 2, uniqueClicks: 1, botClicks: 1, suspectClicks: 1 });
      });

      it('changes no counter, kind or flood budget when a batch is retried', async () => {
        const s = await storeWithPolicy(POLICY);
        const batch = [
          click('c1'),
          click('c2'),
          click('c3', { bot: true, visitorId: 'crawler' }),
          click('c4', { linkCode: 'code-b', campaignId: null }),
        ];
        await s.store.writeClicks(batch);
        const snapshot = async () => ({
          counts: await s.store.clickCounts(['code-a', 'code-b']),
          counters: await Promise.all(GROUP_TYPES.map((type) => s.store.readCounters('m1', type, ['h2025030100', DAY]))),
          clicks: await s.readClicks('m1'),
        });
        const before = await snapshot();
        expect(before.counts).toEqual(new Map([['code-a', 2], ['code-b', 1]]));
        expect(before.counters[0]).toEqual(
          new Map([['m1', new Map([['h2025030100', { clicks: 3, uniqueClicks: 2, botClicks: 1 }], [DAY, { clicks: 3, uniqueClicks: 2, botClicks: 1 }]])]]),
        );
        await s.store.writeClicks(batch);
        await s.store.writeClicks([batch[1]!, batch[0]!, batch[3]!]);
        expect(await snapshot()).toEqual(before);
        // Had the retries counted as taps, visitor-1 would be over its 3 taps this minute.
        await s.store.writeClicks([click('c5')]);
        expect(await kindsOf(s)).toEqual(['unique', 'repeat', 'bot', 'unique', 'repeat']);
      });

      it('writes a batch larger than one script’s share whole and in order, carrying state across the split', async () => {
        const s = await storeWithPolicy(POLICY);
        // One visitor floods across the 200-click boundary; everyone else taps once.
        const clicks = Array.from({ length: 450 }, (_, i) =>
          click(`c${String(i).padStart(3, '0')}`, { visitorId: i >= 198 && i <= 202 ? 'flooder' : `visitor-${i}` }),
        );
        await s.store.writeClicks(clicks);
        const recorded = await s.readClicks('m1');
        expect(recorded.map((c) => c.clickId)).toEqual(clicks.map((c) => c.clickId));
        const expected = clicks.map((_, i): ClickKind => (i === 199 || i === 200 ? 'repeat' : i === 201 || i === 202 ? 'suspect' : 'unique'));
        expect(recorded.map((c) => c.kind)).toEqual(expected);
        expect(await s.store.clickCounts(['code-a'])).toEqual(new Map([['code-a', 448]]));
        expect(await linkCounters(s.store, 'code-a')).toEqual({ clicks: 448, uniqueClicks: 446, suspectClicks: 2 });
      });
    });

    describe('counters', () => {
      const T1 = BASE_MS + 5000; // h2025030100, d20250301
      const T2 = BASE_MS + 90 * MINUTE; // h2025030101, d20250301
      const T3 = Date.parse('2025-03-02T23:59:59.999Z'); // h2025030223, d20250302
      const BUCKETS = ['h2025030100', 'h2025030101', 'h2025030105', 'h2025030223', 'd20250301', 'd20250302', 'd20250303'];

      beforeEach(async () => {
        await store.writeClicks([
          click('k1', { at: T1 }),
          click('k2', { at: T1 + 1000 }),
          click('k3', { at: T2, linkCode: 'code-b', campaignId: null, visitorId: 'visitor-2' }),
          click('k4', { at: T3, linkCode: 'code-c', noteId: 'note-2', visitorId: 'visitor-3' }),
          click('k5', { at: T2, bot: true, visitorId: 'crawler' }),
          // Another merchant using the same note and campaign ids.
          click('z1', { at: T1, merchantId: 'm2', linkCode: 'code-z' }),
        ]);
      });

      it('counts a merchant’s clicks per hour and day bucket', async () => {
        expect(await store.readCounters('m1', 'merchant', BUCKETS)).toEqual(
          groups({
            m1: {
              h2025030100: { clicks: 2, uniqueClicks: 1 },
              h2025030101: { clicks: 1, uniqueClicks: 1, botClicks: 1 },
              h2025030223: { clicks: 1, uniqueClicks: 1 },
              d20250301: { clicks: 3, uniqueClicks: 2, botClicks: 1 },
              d20250302: { clicks: 1, uniqueClicks: 1 },
            },
          }),
        );
      });

      it('counts the groups of each type that have counts, per merchant', async () => {
        expect(await store.countGroups('m1', 'merchant')).toBe(1);
        expect(await store.countGroups('m1', 'campaign')).toBe(2);
        expect(await store.countGroups('m1', 'note')).toBe(2);
        expect(await store.countGroups('m1', 'link')).toBe(3);
        expect(await store.countGroups('m2', 'link')).toBe(1);
        expect(await store.countGroups('m3', 'link')).toBe(0);
      });

      it('counts per campaign, with links without a campaign under ""', async () => {
        expect(await store.readCounters('m1', 'campaign', BUCKETS)).toEqual(
          groups({
            spring: {
              h2025030100: { clicks: 2, uniqueClicks: 1 },
              h2025030101: { botClicks: 1 },
              h2025030223: { clicks: 1, uniqueClicks: 1 },
              d20250301: { clicks: 2, uniqueClicks: 1, botClicks: 1 },
              d20250302: { clicks: 1, uniqueClicks: 1 },
            },
            '': {
              h2025030101: { clicks: 1, uniqueClicks: 1 },
              d20250301: { clicks: 1, uniqueClicks: 1 },
            },
          }),
        );
      });

      it('counts per note', async () => {
        expect(await store.readCounters('m1', 'note', BUCKETS)).toEqual(
          groups({
            'note-1': {
              h2025030100: { clicks: 2, uniqueClicks: 1 },
              h2025030101: { clicks: 1, uniqueClicks: 1, botClicks: 1 },
              d20250301: { clicks: 3, uniqueClicks: 2, botClicks: 1 },
            },
            'note-2': {
              h2025030223: { clicks: 1, uniqueClicks: 1 },
              d20250302: { clicks: 1, uniqueClicks: 1 },
            },
          }),
        );
      });

      it('counts per link', async () => {
        expect(await store.readCounters('m1', 'link', BUCKETS)).toEqual(
          groups({
            'code-a': {
              h2025030100: { clicks: 2, uniqueClicks: 1 },
              h2025030101: { botClicks: 1 },
              d20250301: { clicks: 2, uniqueClicks: 1, botClicks: 1 },
            },
            'code-b': {
              h2025030101: { clicks: 1, uniqueClicks: 1 },
              d20250301: { clicks: 1, uniqueClicks: 1 },
            },
            'code-c': {
              h2025030223: { clicks: 1, uniqueClicks: 1 },
              d20250302: { clicks: 1, uniqueClicks: 1 },
            },
          }),
        );
      });

      it('reads every group and bucket of a query larger than one read of the store (13 links over 400 days)', async () => {
        const from = Date.UTC(2025, 0, 1);
        const days = bucketsCovering(from, from + 400 * 86_400_000, 'day');
        const clicks = Array.from({ length: 13 }, (_, i) =>
          click(`long-${i}`, { linkCode: `code-long-${i}`, merchantId: 'm3', at: from + i * 30 * 86_400_000 + 1000 }),
        );
        await store.writeClicks(clicks);
        expect(await store.readCounters('m3', 'link', days)).toEqual(
          groups(Object.fromEntries(clicks.map((c) => [c.linkCode, { [dayBucket(c.at)]: { clicks: 1, uniqueClicks: 1 } }]))),
        );
      });

      it('keeps each merchant’s counters apart', async () => {
        const only = { h2025030100: { clicks: 1, uniqueClicks: 1 }, d20250301: { clicks: 1, uniqueClicks: 1 } };
        expect(await store.readCounters('m2', 'merchant', BUCKETS)).toEqual(groups({ m2: only }));
        expect(await store.readCounters('m2', 'campaign', BUCKETS)).toEqual(groups({ spring: only }));
        expect(await store.readCounters('m2', 'note', BUCKETS)).toEqual(groups({ 'note-1': only }));
        expect(await store.readCounters('m2', 'link', BUCKETS)).toEqual(groups({ 'code-z': only }));
      });

      it('reads only the buckets asked for, and nothing for buckets or merchants without counts', async () => {
        expect(await store.readCounters('m1', 'link', ['d20250302'])).toEqual(
          groups({ 'code-c': { d20250302: { clicks: 1, uniqueClicks: 1 } } }),
        );
        for (const type of GROUP_TYPES) {
          expect(await store.readCounters('m1', type, ['h2025030105', 'd20250303'])).toEqual(new Map());
          expect(await store.readCounters('m1', type, [])).toEqual(new Map());
          expect(await store.readCounters('nobody', type, BUCKETS)).toEqual(new Map());
        }
      });
    });

    describe('attribution', () => {
      const HOUR = 60 * MINUTE;
      const T_A = BASE_MS + 2 * HOUR + 17 * MINUTE; // h2025030102, d20250301
      const T_B = BASE_MS + 5 * HOUR; // h2025030105, d20250301
      const T_C = Date.parse('2025-03-02T00:00:00.000Z'); // h2025030200, d20250302
      // h2025030100 is where the clicks below happened: orders count when they happen, not when their click did.
      const BUCKETS = ['h2025030100', 'h2025030102', 'h2025030105', 'h2025030200', 'd20250301', 'd20250302'];

      const SPRING: ClickOrigin = { merchantId: 'm1', linkCode: 'code-a', noteId: 'note-1', campaignId: 'spring', at: BASE_MS + 5000 };
      const NO_CAMPAIGN: ClickOrigin = { merchantId: 'm1', linkCode: 'code-b', noteId: 'note-1', campaignId: null, at: BASE_MS + 6000 };

      /** A new customer's order of 129.00 through SPRING's click, placed at T_A. */
      function order(orderId: string, fields: Partial<Order> = {}): Order {
        return {
          merchantId: 'm1',
          orderId,
          clickId: 'c1',
          origin: SPRING,
          amountMinor: 12_900,
          currency: 'CNY',
          newCustomer: true,
          occurredAt: T_A,
          refundedMinor: 0,
          ...fields,
        };
      }

      /** What readCounters answers over BUCKETS for each of the four group types. */
      async function countersOf(merchantId: string) {
        const [merchant, campaign, note, link] = await Promise.all(GROUP_TYPES.map((type) => store.readCounters(merchantId, type, BUCKETS)));
        return { merchant, campaign, note, link };
      }

      /** The same counters in each group an origin counts in. */
      function inEveryGroup(origin: CounterIncrement['origin'], buckets: Record<string, Partial<Record<CounterName, number>>>) {
        return {
          merchant: groups({ [origin.merchantId]: buckets }),
          campaign: groups({ [origin.campaignId ?? '']: buckets }),
          note: groups({ [origin.noteId]: buckets }),
          link: groups({ [origin.linkCode]: buckets }),
        };
      }

      /** Counters of orders placed at T_A through SPRING. */
      const atA = (counts: Partial<Record<CounterName, number>>) => inEveryGroup(SPRING, { h2025030102: counts, d20250301: counts });

      describe('click origins', () => {
        it('tells where a written click came from, and nothing for an unknown click id', async () => {
          await store.writeClicks([
            click('c1'),
            click('c2', { merchantId: 'm2', linkCode: 'code-b', noteId: 'note-2', campaignId: null, at: BASE_MS + 9000 }),
          ]);
          expect(await store.clickOrigin('c1')).toEqual({ merchantId: 'm1', linkCode: 'code-a', noteId: 'note-1', campaignId: 'spring', at: BASE_MS + 5000 });
          expect(await store.clickOrigin('c2')).toEqual({ merchantId: 'm2', linkCode: 'code-b', noteId: 'note-2', campaignId: null, at: BASE_MS + 9000 });
          expect(await store.clickOrigin('nope')).toBeNull();
        });

        it('keeps the first origin when a click id is written again', async () => {
          await store.writeClicks([click('c1')]);
          await store.writeClicks([click('c1', { linkCode: 'code-z', campaignId: null, at: BASE_MS + 99_000 })]);
          expect(await store.clickOrigin('c1')).toEqual(SPRING);
        });
      });

      describe('orders', () => {
        it('counts an order, its amount and a new customer in the hour and day it happened, in every group', async () => {
          expect(await store.recordOrder(order('o1'))).toEqual({ outcome: 'recorded' });
          const returning = order('o2', { clickId: 'c2', origin: NO_CAMPAIGN, amountMinor: 5_000, newCustomer: false, occurredAt: T_B });
          expect(await store.recordOrder(returning)).toEqual({ outcome: 'recorded' });

          const first = { orders: 1, gmvMinor: 12_900, newCustomers: 1 };
          const second = { orders: 1, gmvMinor: 5_000 };
          const both = { h2025030102: first, h2025030105: second, d20250301: { orders: 2, gmvMinor: 17_900, newCustomers: 1 } };
          expect(await countersOf('m1')).toEqual({
            merchant: groups({ m1: both }),
            campaign: groups({ spring: { h2025030102: first, d20250301: first }, '': { h2025030105: second, d20250301: second } }),
            note: groups({ 'note-1': both }),
            link: groups({ 'code-a': { h2025030102: first, d20250301: first }, 'code-b': { h2025030105: second, d20250301: second } }),
          });
        });

        it('records an order once: the same merchant and order id again answers the stored order and counts nothing', async () => {
          await store.recordOrder(order('o1'));
          const before = await countersOf('m1');
          expect(before).toEqual(atA({ orders: 1, gmvMinor: 12_900, newCustomers: 1 }));

          const retry = order('o1', { clickId: 'c2', origin: NO_CAMPAIGN, amountMinor: 99_900, newCustomer: false, occurredAt: T_B });
          expect(await store.recordOrder(retry)).toEqual({ outcome: 'duplicate', order: order('o1') });
          expect(await store.recordOrder(order('o1'))).toEqual({ outcome: 'duplicate', order: order('o1') });
          expect(await countersOf('m1')).toEqual(before);

          await store.refundOrder('m1', 'o1', 900);
          expect(await store.recordOrder(order('o1'))).toEqual({ outcome: 'duplicate', order: order('o1', { refundedMinor: 900 }) });
        });

        it('finds a recorded order by merchant and order id, with what was refunded, and nothing else', async () => {
          expect(await store.findOrder('m1', 'o1')).toBeNull();
          await store.recordOrder(order('o1'));
          expect(await store.findOrder('m1', 'o1')).toEqual(order('o1'));
          await store.refundOrder('m1', 'o1', 900);
          expect(await store.findOrder('m1', 'o1')).toEqual(order('o1', { refundedMinor: 900 }));
          expect(await store.findOrder('m2', 'o1')).toBeNull();
          expect(await store.findOrder('m1', 'o2')).toBeNull();
        });

        it('keeps order ids per merchant', async () => {
          const M2: ClickOrigin = { ...SPRING, merchantId: 'm2', linkCode: 'code-z' };
          const theirs = order('o1', { merchantId: 'm2', origin: M2, amountMinor: 3_000, newCustomer: false });
          expect(await store.recordOrder(order('o1'))).toEqual({ outcome: 'recorded' });
          expect(await store.recordOrder(theirs)).toEqual({ outcome: 'recorded' });

          expect(await countersOf('m1')).toEqual(atA({ orders: 1, gmvMinor: 12_900, newCustomers: 1 }));
          const m2 = { orders: 1, gmvMinor: 3_000 };
          expect(await countersOf('m2')).toEqual(inEveryGroup(M2, { h2025030102: m2, d20250301: m2 }));

          expect(await store.refundOrder('m2', 'o1', null)).toEqual({ outcome: 'refunded', order: { ...theirs, refundedMinor: 3_000 } });
          expect(await store.refundOrder('m1', 'o1', null)).toEqual({ outcome: 'refunded', order: order('o1', { refundedMinor: 12_900 }) });
        });
      });

      describe('refunds', () => {
        it('takes a partial refund out of the GMV only, and answers the order with what is refunded so far', async () => {
          await store.recordOrder(order('o1'));
          expect(await store.refundOrder('m1', 'o1', 2_900)).toEqual({ outcome: 'refunded', order: order('o1', { refundedMinor: 2_900 }) });
          expect(await countersOf('m1')).toEqual(atA({ orders: 1, gmvMinor: 10_000, newCustomers: 1 }));
          expect(await store.refundOrder('m1', 'o1', 1_000)).toEqual({ outcome: 'refunded', order: order('o1', { refundedMinor: 3_900 }) });
          expect(await countersOf('m1')).toEqual(atA({ orders: 1, gmvMinor: 9_000, newCustomers: 1 }));
        });

        it('takes the order out with the rest of its amount, and its customer only if it was new', async () => {
          await store.recordOrder(order('o1'));
          await store.recordOrder(order('o2', { amountMinor: 5_000, newCustomer: false }));
          await store.refundOrder('m1', 'o1', 2_900);

          expect(await store.refundOrder('m1', 'o1', null)).toEqual({ outcome: 'refunded', order: order('o1', { refundedMinor: 12_900 }) });
          expect(await countersOf('m1')).toEqual(atA({ orders: 1, gmvMinor: 5_000, newCustomers: 0 }));

          // Naming the whole amount closes the order just the same; a returning customer takes no new customer out.
          const closed = order('o2', { amountMinor: 5_000, newCustomer: false, refundedMinor: 5_000 });
          expect(await store.refundOrder('m1', 'o2', 5_000)).toEqual({ outcome: 'refunded', order: closed });
          expect(await countersOf('m1')).toEqual(atA({ orders: 0, gmvMinor: 0, newCustomers: 0 }));
        });

        it('refuses a refund beyond what is left, says what is left and changes nothing', async () => {
          await store.recordOrder(order('o1'));
          await store.refundOrder('m1', 'o1', 2_900);
          const before = await countersOf('m1');

          expect(await store.refundOrder('m1', 'o1', 10_001)).toEqual({ outcome: 'exceeds-remaining', remainingMinor: 10_000 });
          expect(await countersOf('m1')).toEqual(before);
          expect(await store.recordOrder(order('o1'))).toEqual({ outcome: 'duplicate', order: order('o1', { refundedMinor: 2_900 }) });

          // Exactly what is left still goes through; after that nothing is left.
          expect(await store.refundOrder('m1', 'o1', 10_000)).toEqual({ outcome: 'refunded', order: order('o1', { refundedMinor: 12_900 }) });
          const emptied = await countersOf('m1');
          expect(emptied).toEqual(atA({ orders: 0, gmvMinor: 0, newCustomers: 0 }));
          expect(await store.refundOrder('m1', 'o1', 1)).toEqual({ outcome: 'exceeds-remaining', remainingMinor: 0 });
          expect(await store.refundOrder('m1', 'o1', null)).toEqual({ outcome: 'exceeds-remaining', remainingMinor: 0 });
          expect(await countersOf('m1')).toEqual(emptied);
        });

        it('takes an order of 0 out once, with its rest (0), and then it has nothing left', async () => {
          const free = order('free', { amountMinor: 0 });
          await store.recordOrder(free);
          expect(await countersOf('m1')).toEqual(atA({ orders: 1, gmvMinor: 0, newCustomers: 1 }));
          expect(await store.refundOrder('m1', 'free', null)).toEqual({ outcome: 'refunded', order: free });
          const emptied = await countersOf('m1');
          expect(emptied).toEqual(atA({ orders: 0, gmvMinor: 0, newCustomers: 0 }));
          expect(await store.refundOrder('m1', 'free', null)).toEqual({ outcome: 'exceeds-remaining', remainingMinor: 0 });
          expect(await store.refundOrder('m1', 'free', 0)).toEqual({ outcome: 'exceeds-remaining', remainingMinor: 0 });
          expect(await countersOf('m1')).toEqual(emptied);
        });

        it('knows no order it never recorded, nor another merchant’s order', async () => {
          expect(await store.refundOrder('m1', 'o1', null)).toEqual({ outcome: 'unknown-order' });
          await store.recordOrder(order('o1'));
          expect(await store.refundOrder('m1', 'o2', 100)).toEqual({ outcome: 'unknown-order' });
          expect(await store.refundOrder('m2', 'o1', 100)).toEqual({ outcome: 'unknown-order' });
          expect(await store.refundOrder('m2', 'o1', null)).toEqual({ outcome: 'unknown-order' });
          expect(await countersOf('m1')).toEqual(atA({ orders: 1, gmvMinor: 12_900, newCustomers: 1 }));
          expect(await countersOf('m2')).toEqual({ merchant: new Map(), campaign: new Map(), note: new Map(), link: new Map() });
        });
      });

      describe('added counters', () => {
        it('sums increments per bucket and counter in every group, and makes the groups readable', async () => {
          await store.addCounters([
            { origin: SPRING, at: T_A, counter: 'impressions', by: 3 },
            { origin: SPRING, at: T_A + 10 * MINUTE, counter: 'impressions', by: 2 },
            { origin: NO_CAMPAIGN, at: T_A, counter: 'impressions', by: 1 },
            { origin: SPRING, at: T_B, counter: 'impressions', by: 4 },
            { origin: SPRING, at: T_C, counter: 'impressions', by: 7 },
          ]);
          // Impressions arrive in batches: a later batch adds to the same buckets.
          await store.addCounters([
            { origin: SPRING, at: T_A + 40 * MINUTE, counter: 'impressions', by: 10 },
            { origin: SPRING, at: T_A, counter: 'clicks', by: 1 },
          ]);
          await store.addCounters([]);

          const spring = {
            h2025030102: { impressions: 15, clicks: 1 },
            h2025030105: { impressions: 4 },
            h2025030200: { impressions: 7 },
            d20250301: { impressions: 19, clicks: 1 },
            d20250302: { impressions: 7 },
          };
          const none = { h2025030102: { impressions: 1 }, d20250301: { impressions: 1 } };
          const all = { ...spring, h2025030102: { impressions: 16, clicks: 1 }, d20250301: { impressions: 20, clicks: 1 } };
          expect(await countersOf('m1')).toEqual({
            merchant: groups({ m1: all }),
            campaign: groups({ spring, '': none }),
            note: groups({ 'note-1': all }),
            link: groups({ 'code-a': spring, 'code-b': none }),
          });
          expect(await countersOf('m2')).toEqual({ merchant: new Map(), campaign: new Map(), note: new Map(), link: new Map() });
        });

        it('adds to the counters clicks and orders left', async () => {
          await store.writeClicks([click('c1', { at: T_A })]);
          await store.recordOrder(order('o1'));
          await store.addCounters([{ origin: SPRING, at: T_A, counter: 'impressions', by: 40 }]);
          expect(await countersOf('m1')).toEqual(atA({ clicks: 1, uniqueClicks: 1, orders: 1, gmvMinor: 12_900, newCustomers: 1, impressions: 40 }));
        });
      });

      describe('spend', () => {
        it('keeps spend per campaign, day and total, replacing on a second set, per merchant', async () => {
          await store.setSpend('m1', 'spring', 'd20250301', 50_000);
          await store.setSpend('m1', 'spring', 'd20250302', 20_000);
          await store.setSpend('m1', 'spring', 'total', 70_000);
          await store.setSpend('m1', 'summer', 'total', 9_000);
          await store.setSpend('m2', 'spring', 'total', 100);
          await store.setSpend('m1', 'spring', 'd20250301', 45_000);
          await store.setSpend('m1', 'summer', 'total', 0);

          expect(await store.readSpend('m1')).toEqual(
            new Map([
              ['spring', new Map([['d20250301', 45_000], ['d20250302', 20_000], ['total', 70_000]])],
              ['summer', new Map([['total', 0]])],
            ]),
          );
          expect(await store.readSpend('m2')).toEqual(new Map([['spring', new Map([['total', 100]])]]));
          expect(await store.readSpend('nobody')).toEqual(new Map());
        });
      });

      describe('click export', () => {
        // The Redis store finds clicks by when they were written, so these taps happen just now.
        let t0: number;
        beforeEach(() => {
          t0 = Date.now() - 30_000;
        });
        /** A tap by a visitor of its own (so it is judged unique) `offset` ms past t0. */
        const tap = (clickId: string, offset: number, fields: Partial<StoredClick> = {}) =>
          click(clickId, { at: t0 + offset, visitorId: `visitor-${clickId}`, ...fields });
        const unique = (c: StoredClick): ClassifiedClick => ({ ...c, kind: 'unique' });

        /** Follows cursors to the end: the click ids of each page. */
        async function exportAll(merchantId: string, fromMs: number, toMs: number, limit: number) {
          const pages: string[][] = [];
          let cursor: string | null = null;
          do {
            const page: ClickPage = await store.readClicks(merchantId, fromMs, toMs, limit, cursor);
            pages.push(page.clicks.map((c) => c.clickId));
            cursor = page.nextCursor;
          } while (cursor !== null && pages.length <= 50);
          return pages;
        }

        it('reads the merchant’s clicks whose own time is in [from, to), oldest first', async () => {
          const early = tap('early', -1);
          const first = tap('first', 0);
          const middle = tap('middle', 2000, { linkCode: 'code-b', campaignId: null, bot: true });
          const theirs = tap('theirs', 2500, { merchantId: 'm2', linkCode: 'code-z' });
          const last = tap('last', 4999);
          const atTo = tap('at-to', 5000);
          await store.writeClicks([early, first]);
          await store.writeClicks([middle, theirs]);
          await store.writeClicks([last, atTo]);

          expect(await store.readClicks('m1', t0, t0 + 5000, 10, null)).toEqual({
            clicks: [unique(first), { ...middle, kind: 'bot' }, unique(last)],
            nextCursor: null,
          });
          expect(await store.readClicks('m2', t0, t0 + 5000, 10, null)).toEqual({ clicks: [unique(theirs)], nextCursor: null });
          expect(await store.readClicks('m1', t0 + 5001, t0 + 9000, 10, null)).toEqual({ clicks: [], nextCursor: null });
          expect(await store.readClicks('nobody', t0, t0 + 5000, 10, null)).toEqual({ clicks: [], nextCursor: null });
        });

        it.each([1, 2, 3, 7, 10])('pages %i at a time through every click in range once, ending with no cursor', async (limit) => {
          // Seven of m1's clicks in range, with clicks outside it and another merchant's clicks in between.
          const mine = Array.from({ length: 7 }, (_, i) => tap(`m1-${i}`, 1000 + i * 1000));
          const others = Array.from({ length: 7 }, (_, i) => tap(`m2-${i}`, 1000 + i * 1000 + 500, { merchantId: 'm2', linkCode: 'code-z' }));
          await store.writeClicks([tap('before', 999), ...mine.flatMap((c, i) => [c, others[i]!]), tap('after', 8000)]);

          const pages = await exportAll('m1', t0 + 1000, t0 + 8000, limit);
          expect(pages.flat()).toEqual(mine.map((c) => c.clickId));
          const sizes = Array.from({ length: Math.ceil(7 / limit) }, (_, i) => Math.min(limit, 7 - i * limit));
          expect(pages.map((p) => p.length)).toEqual(sizes);
        });

        it('gives no cursor when a page ends at the merchant’s last click', async () => {
          await store.writeClicks([tap('c1', 1000), tap('c2', 2000), tap('theirs', 3000, { merchantId: 'm2', linkCode: 'code-z' })]);
          const page = await store.readClicks('m1', t0, t0 + 5000, 2, null);
          expect(page.clicks.map((c) => c.clickId)).toEqual(['c1', 'c2']);
          expect(page.nextCursor).toBeNull();
          expect(await exportAll('m1', t0, t0 + 5000, 1)).toEqual([['c1'], ['c2']]);
        });
      });
    });

    describe('request counting', () => {
      it('counts per subject and window, and restarts in a new window', async () => {
        const count = (subject: string, window: number) => store.countRequest(subject, window, 60_000);
        expect(await count('merchant:m1', 100)).toBe(1);
        expect(await count('merchant:m1', 100)).toBe(2);
        expect(await count('merchant:m1', 100)).toBe(3);
        expect(await count('merchant:m2', 100)).toBe(1);
        expect(await count('merchant:m1', 101)).toBe(1);
        expect(await count('merchant:m1', 101)).toBe(2);
        expect(await count('merchant:m2', 101)).toBe(1);
      });
    });
  });
}
