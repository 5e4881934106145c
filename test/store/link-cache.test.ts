import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Link } from '../../src/domain/link.js';
import { LinkCache } from '../../src/store/link-cache.js';
import { createRedisStore } from '../../src/store/redis/store.js';
import type { Store } from '../../src/store/types.js';
import { storedLink } from '../helpers/links.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

const link = (code: string, url = 'https://item.taobao.com/item.htm?id=1'): Link => storedLink(code, { url });

/** Waits (in real time) for a background load to land. */
async function until(landed: () => boolean): Promise<void> {
  for (let waited = 0; !landed(); waited += 10) {
    if (waited > 2000) throw new Error('not within 2 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('LinkCache in front of the Redis store', () => {
  let redis: TestRedis;
  let store: Store;
  const clock = { now: 1_000_000 };
  const cache = (maxEntries = 100) =>
    new LinkCache(store, { ttlMs: 1000, pushedTtlMs: 60_000, maxEntries, allowedHosts: ['.taobao.com'], now: () => clock.now });

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
    // The load reads the link before the change lands; the change's invalidation reaches the cache before the read's answer.
    const stale = links.get('c-race');
    links.invalidate('c-race');
    await store.saveLink({ ...link('c-race'), status: 'paused' }, link('c-race'));
    await stale;
    expect(links.peek('c-race')).toBeUndefined();
    expect((await links.get('c-race'))?.link.status).toBe('paused');
  });

  it('still keeps an old link out when it forgets change counts past maxEntries', async () => {
    await store.createLink(link('c-forget'));
    const links = cache(2);
    const stale = links.get('c-forget');
    links.invalidate('c-forget');
    for (const code of ['c-forget-1', 'c-forget-2']) links.invalidate(code);
    await store.saveLink({ ...link('c-forget'), status: 'paused' }, link('c-forget'));
    await stale;
    expect(links.peek('c-forget')).toBeUndefined();
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

  describe('with link changes pushed', () => {
    it('keeps a link, and an unknown code, for pushedTtlMs rather than ttlMs, and drops one the moment it changes', async () => {
      await store.createLink(link('c-pushed'));
      const links = cache();
      links.changesPushed(true);
      await links.get('c-pushed');
      expect(await links.get('c-pushed-unknown')).toBeNull();
      clock.now += 59_000;
      expect(links.peek('c-pushed')?.link.code).toBe('c-pushed');
      expect(links.peek('c-pushed-unknown')).toBeNull();
      links.invalidate('c-pushed');
      expect(links.peek('c-pushed')).toBeUndefined();
      clock.now += 1001;
      expect(links.peek('c-pushed-unknown')).toBeUndefined();
    });

    it('keeps a capped link for ttlMs only: its click count comes from every process, read with the link', async () => {
      await store.createLink({ ...link('c-capped'), maxClicks: 100 });
      const links = cache();
      links.changesPushed(true);
      await links.get('c-capped');
      clock.now += 1001;
      expect(links.peek('c-capped')).toBeUndefined();
    });

    it('keeps serving what it has when changes stop arriving, and reloads each link in the background on its next tap', async () => {
      await store.createLink(link('c-stop'));
      const links = cache();
      links.changesPushed(true);
      await links.get('c-stop');
      // A change this cache is not told of: no feed in these tests.
      await store.saveLink({ ...link('c-stop'), url: 'https://item.taobao.com/item.htm?id=2' }, link('c-stop'));
      links.changesPushed(false);
      expect(links.peek('c-stop')?.link.url).toMatch(/id=1$/);
      await until(() => links.peek('c-stop')?.link.url.endsWith('id=2') === true);
    });

    it('holds a link ttlMs at most once changes stop arriving', async () => {
      await store.createLink(link('c-stop-ttl'));
      const links = cache();
      links.changesPushed(true);
      await links.get('c-stop-ttl');
      links.changesPushed(false);
      clock.now += 1001;
      expect(links.peek('c-stop-ttl')).toBeUndefined();
    });

    it('reloads what it has when changes start arriving, then keeps it for pushedTtlMs', async () => {
      await store.createLink(link('c-start'));
      const links = cache();
      await links.get('c-start');
      await store.saveLink({ ...link('c-start'), url: 'https://item.taobao.com/item.htm?id=2' }, link('c-start'));
      links.changesPushed(true);
      expect(links.peek('c-start')?.link.url).toMatch(/id=1$/);
      await links.get('c-start');
      clock.now += 59_000;
      expect(links.peek('c-start')?.link.url).toMatch(/id=2$/);
    });

    it('does not let a load that started before changes were pushed keep what it read for pushedTtlMs', async () => {
      await store.createLink(link('c-epoch'));
      const links = cache();
      const stale = links.get('c-epoch');
      links.changesPushed(true);
      await store.saveLink({ ...link('c-epoch'), status: 'paused' }, link('c-epoch'));
      await stale;
      expect(links.peek('c-epoch')).toBeUndefined();
      expect((await links.get('c-epoch'))?.link.status).toBe('paused');
    });

    it('drops every link at once, and what a running load read, when any may have changed (Redis was flushed)', async () => {
      await store.createLink(link('c-all-1'));
      await store.createLink(link('c-all-2'));
      const links = cache();
      links.changesPushed(true);
      await links.get('c-all-1');
      const running = links.get('c-all-2');
      links.invalidateAll();
      await running;
      expect(links.peek('c-all-1')).toBeUndefined();
      expect(links.peek('c-all-2')).toBeUndefined();
    });
  });
});
