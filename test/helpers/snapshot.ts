import { applyPendingCounts, type TestRedis } from './redis.js';

async function namespaceKeys({ redis, prefix }: TestRedis): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found.sort();
}

/**
 * Every key of a test's namespace with everything stored under it, as text, so "nothing changed"
 * means exactly that. Rate-limit windows are left out: they count requests, refused ones too, and
 * hold no merchant data.
 */
export async function namespaceSnapshot(testRedis: TestRedis): Promise<Record<string, string>> {
  const { redis, prefix } = testRedis;
  // Whether a click's counts still wait in the pending list or sit in their counters is no change.
  await applyPendingCounts(redis, prefix);
  const snapshot: Record<string, string> = {};
  for (const key of await namespaceKeys(testRedis)) {
    if (key.startsWith(`${prefix}rate:`)) continue;
    const type = await redis.type(key);
    let value: unknown;
    if (type === 'string') value = await redis.get(key);
    else if (type === 'hash') value = await redis.hgetall(key);
    else if (type === 'zset') value = await redis.zrange(key, '0', '-1', 'WITHSCORES');
    else if (type === 'set') value = (await redis.smembers(key)).sort();
    else if (type === 'stream') value = await redis.xrange(key, '-', '+');
    else value = `<${type}>`;
    snapshot[key] = JSON.stringify(value);
  }
  return snapshot;
}
