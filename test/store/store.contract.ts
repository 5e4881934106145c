import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClickRecord } from '../../src/domain/click.js';
import { HanglinkError } from '../../src/domain/errors.js';
import type { Link } from '../../src/domain/link.js';
import type { Merchant } from '../../src/domain/merchant.js';
import type { LinkFilter, Store } from '../../src/store/types.js';

export interface StoreUnderTest {
  store: Store;
  /** The clicks the store recorded for a merchant, oldest first. */
  readClicks(merchantId: string): Promise<ClickRecord[]>;
  cleanup(): Promise<void>;
}

const BASE_MS = Date.parse('2025-03-01T00:00:00.000Z');

function merchant(id: string): Merchant {
  return { id, name: `Merchant ${id}`, approvedCategories: [], createdAt: new Date(BASE_MS).toISOString() };
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
    status: 'active',
    createdAt: at,
    updatedAt: at,
    ...fields,
  };
}

function click(clickId: string, fields: Partial<ClickRecord> = {}): ClickRecord {
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
    ...fields,
  };
}

const codes = (links: readonly Link[]) => links.map((l) => l.code);

export function describeStoreContract(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(`${name} store`, () => {
    let subject: StoreUnderTest;
    let store: Store;

    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

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
        const created = link('abc', 1, { campaignId: 'spring', externalId: 'sku-1', expiresAt: '2026-01-01T00:00:00.000Z' });
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
        await store.saveLink(paused);
        expect(await store.getLink('abc')).toEqual(paused);
        expect((await store.listLinks('m1', {}, 10, null)).links).toEqual([paused]);
      });

      it('takes a deleted link out of every listing but still resolves it as deleted', async () => {
        const doomed = link('doomed', 2, { campaignId: 'spring', externalId: 'sku-1' });
        await createAll([link('kept', 1, { campaignId: 'spring' }), doomed]);
        await store.saveLink({ ...doomed, status: 'deleted' });

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
      it('records every field of a written click', async () => {
        const clicks = [click('c1'), click('c2', { campaignId: null, userAgent: '', referrer: '', acceptLanguage: '', ipPrefix: '' })];
        await store.writeClicks(clicks);
        expect(await subject.readClicks('m1')).toEqual(clicks);
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

      it('accepts an empty batch and an empty count request', async () => {
        await store.writeClicks([]);
        expect(await store.clickCounts([])).toEqual(new Map());
        expect(await subject.readClicks('m1')).toEqual([]);
      });
    });
  });
}
