import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Link } from '../../src/domain/link.js';
import { LinkCache } from '../../src/store/link-cache.js';
import { createRedisStore } from '../../src/store/redis/store.js';
import type { Store } from '../../src/store/types.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

const link = (code: string, url = 'https://item.taobao.com/item.htm?id=1'): Link => ({
  code,
  merchantId: 'mer_cache',
  url,
  noteId: 'note-1',
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
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe('LinkCache in front of the Redis store', () => {
  let redis: TestRedis;
  let store: Store;
  const clock = { now: 1_000_000 };
  const cache = (maxEntries = 100) => new LinkCache(store, { ttlMs: 1000, maxEntries, allowedHosts: ['.taobao.com'], now: () => clock.now });

  beforeAll(async () => {
    redis = await testRedis();
    store = createRedisStore(redis.redis, { prefix: redis.prefix });
  });
  afterAll(() => redis.cleanup());

  it('serves a loaded link without a promise until it expires', async () => {
    await store.createLink(link('c-serve'));
    const links = cache();
    expect(links.peek('c-serve')).toBeUndefined();
    await links.get('c-serve');
    expect(links.peek('c-serve')?.link.code).toBe('c-serve');
    clock.now += 1001;
    expect(links.peek('c-serve')).toBeUndefined();
  });

  it('reloads a link in use in the background in the second half of its life, so a change shows without a miss', async () => {
    await store.createLink(link('c-refresh'));
    const links = cache();
    await links.get('c-refresh');
    await store.saveLink({ ...link('c-refresh'), url: 'https://item.taobao.com/item.htm?id=2' }, link('c-refresh'));

    clock.now += 400;
    expect(links.peek('c-refresh')?.link.url).toMatch(/id=1$/);
    clock.now += 200;
    expect(links.peek('c-refresh')?.link.url).toMatch(/id=1$/);
    await links.get('c-refresh');
    expect(links.peek('c-refresh')?.link.url).toMatch(/id=2$/);
  });

  it('does not let a load that started before a change put the old link back', async () => {
    await store.createLink(link('c-race'));
    const links = cache();
    const stale = links.get('c-race');
    await store.saveLink({ ...link('c-race'), status: 'paused' }, link('c-race'));
    links.invalidate('c-race');
    await stale;
    expect(links.peek('c-race')).toBeUndefined();
    expect((await links.get('c-race'))?.link.status).toBe('paused');
  });

  it('remembers unknown codes too, and holds at most maxEntries', async () => {
    const links = cache(2);
    expect(await links.get('c-unknown')).toBeNull();
    expect(links.peek('c-unknown')).toBeNull();
    await links.get('c-unknown-2');
    await links.get('c-unknown-3');
    expect(links.peek('c-unknown')).toBeUndefined();
    expect(links.peek('c-unknown-3')).toBeNull();
  });
});
