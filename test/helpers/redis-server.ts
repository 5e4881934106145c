import type { TestProject } from 'vitest/node';
import { redisServerInstalled, startOwnRedis } from './own-redis.js';

const HOW_TO_GET_REDIS = `
hanglink's tests run against a real Redis, and none was found.
Either point them at one:      REDIS_URL=redis://127.0.0.1:6379 npm test
or install redis-server so the tests can start a throwaway one:
  Debian/Ubuntu: sudo apt-get install redis-server      macOS: brew install redis
`;

/**
 * Uses REDIS_URL when set; otherwise starts a throwaway redis-server on a free port that keeps
 * nothing on disk, and stops it when the run ends.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.REDIS_URL;
  if (given !== undefined && given !== '') {
    project.provide('redisUrl', given);
    return undefined;
  }
  if (!redisServerInstalled()) throw new Error(HOW_TO_GET_REDIS);
  const redis = await startOwnRedis();
  project.provide('redisUrl', redis.url);
  return () => redis.destroy();
}
