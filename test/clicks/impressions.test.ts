import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImpressionCounter } from '../../src/clicks/impressions.js';
import { createRedisStore } from '../../src/store/redis/store.js';
import type { AttributionStore, Store } from '../../src/store/types.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

const ORIGIN = { merchantId: 'm1', linkCode: 'code-a', noteId: 'note-1', campaignId: null };
// 2025-03-01 02:17 UTC: hour bucket h2025030102.
const AT = Date.UTC(2025, 2, 1, 2, 17);

describe('ImpressionCounter writing to the real Redis store', () => {
  let server: TestRedis;
  let store: Store;

  beforeEach(async () => {
    server = await testRedis();
    store = createRedisStore(server.redis, { prefix: server.prefix });
  });
  afterEach(() => server.cleanup());

  const impressionsOfLink = async () => (await store.readCounters('m1', 'link', ['h2025030102'])).get('code-a')?.get('h2025030102')?.impressions;

  /** The real store's addCounters, failing while `down()` says so. */
  const failingWhile = (down: () => boolean): Pick<AttributionStore, 'addCounters'> => ({
    addCounters: (increments) => (down() ? Promise.reject(new Error('store down')) : store.addCounters(increments)),
  });

  it('writes the impressions it counted, summed per link and hour', async () => {
    const counter = new ImpressionCounter(store);
    for (let i = 0; i < 5; i++) counter.record(ORIGIN, AT + i * 1000);
    await counter.flush();
    expect(await impressionsOfLink()).toBe(5);
  });

  it('keeps the counts of a failed flush and writes them with the next, added to newer ones', async () => {
    let down = true;
    const counter = new ImpressionCounter(failingWhile(() => down));
    counter.record(ORIGIN, AT);
    counter.record(ORIGIN, AT);
    await expect(counter.flush()).rejects.toThrow('store down');
    counter.record(ORIGIN, AT);
    down = false;
    await counter.flush();
    expect(await impressionsOfLink()).toBe(3);
  });

  it('reports a failed flush to onFlushError, and each flush that wrote counts to onFlushed', async () => {
    let down = true;
    const outcomes: string[] = [];
    const counter = new ImpressionCounter(failingWhile(() => down), {
      onFlushError: () => outcomes.push('failed'),
      onFlushed: () => outcomes.push('flushed'),
    });
    counter.record(ORIGIN, AT);
    await expect(counter.flush()).rejects.toThrow('store down');
    down = false;
    await counter.flush();
    // Nothing counted since: nothing written, nothing reported.
    await counter.flush();
    expect(outcomes).toEqual(['failed', 'flushed']);
  });
});
