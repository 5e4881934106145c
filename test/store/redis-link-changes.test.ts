// Link changes pushed by Redis (client tracking), as a gateway process hears them: every write to a
// link through any connection, and nothing else; live/not live as its own connection comes and goes.
import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Link } from '../../src/domain/link.js';
import { createRedisStore } from '../../src/store/redis/store.js';
import type { LinkChangeListener, Store } from '../../src/store/types.js';
import { storedLink } from '../helpers/links.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

const link = (code: string, noteId = 'note-1'): Link => storedLink(code, { merchantId: 'mer_watch', noteId });

/** What a listener heard, in order. */
function recorder() {
  const heard: string[] = [];
  const listener: LinkChangeListener = {
    changed: (code) => heard.push(`changed ${code}`),
    live: (pushed) => heard.push(pushed ? 'live' : 'not live'),
    refused: (error) => heard.push(`refused ${error.message}`),
  };
  /** Waits until `times` lines are `what`, or start with it when it ends in '…'. */
  const until = async (what: string, times = 1, timeoutMs = 3000) => {
    const deadline = Date.now() + timeoutMs;
    const matches = (line: string) => (what.endsWith('…') ? line.startsWith(what.slice(0, -1)) : line === what);
    while (heard.filter(matches).length < times) {
      if (Date.now() > deadline) throw new Error(`not heard within ${timeoutMs} ms: "${what}"; heard: ${JSON.stringify(heard)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { heard, listener, until };
}

describe('Redis link changes', () => {
  let server: TestRedis;
  // Another gateway process: its own connection, the same keys.
  let other: Redis;
  let otherStore: Store;
  let closers: (() => Promise<void>)[];

  beforeEach(async () => {
    server = await testRedis();
    other = server.redis.duplicate();
    otherStore = createRedisStore(other, { prefix: server.prefix });
    closers = [];
  });
  afterEach(async () => {
    // Last opened, first closed: the watcher before its connection, the connection before its user.
    for (const close of closers.reverse()) await close();
    await other.quit();
    await server.cleanup();
  });

  const watch = (redis: Redis = server.redis) => {
    const heard = recorder();
    const watching = createRedisStore(redis, { prefix: server.prefix }).watchLinkChanges!(heard.listener);
    closers.push(() => watching.close());
    return { ...heard, watching };
  };

  it('hears of a link created, changed and deleted through another connection, and of nothing else', async () => {
    const { heard, until } = watch();
    await until('live');
    await otherStore.createLink(link('w-created'));
    await until('changed w-created');
    await otherStore.saveLink(link('w-created', 'note-2'), link('w-created'));
    await otherStore.writeClicks([]);
    await other.set(`${server.prefix}linkclicks:w-created`, '5');
    await other.set(`${server.prefix}merchant:mer_watch`, '{}');
    await otherStore.saveLink({ ...link('w-created', 'note-2'), status: 'deleted' }, link('w-created', 'note-2'));
    await other.del(`${server.prefix}link:w-created`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard.filter((line) => line.startsWith('changed')).every((line) => line === 'changed w-created')).toBe(true);
    expect(heard.filter((line) => line === 'changed w-created').length).toBeGreaterThanOrEqual(2);
    expect(heard.some((line) => line.includes('linkclicks') || line.includes('merchant'))).toBe(false);
  });

  it('does not hear of another prefix’s links', async () => {
    const { heard, until } = watch();
    await until('live');
    const elsewhere = createRedisStore(other, { prefix: `${server.prefix}other:` });
    await elsewhere.createLink(link('w-elsewhere'));
    await otherStore.createLink(link('w-here'));
    await until('changed w-here');
    expect(heard).not.toContain('changed w-elsewhere');
    await other.del(`${server.prefix}other:link:w-elsewhere`, `${server.prefix}other:links:mer_watch`, `${server.prefix}other:links:mer_watch:note:note-1`);
  });

  it('hears that any link may have changed when Redis flushes a database', async () => {
    const { until } = watch();
    await until('live');
    // Flushing wipes only what it finds: an empty database, checked and flushed in one script.
    const flushedEmpty = async (db: number) =>
      (await other.eval("redis.call('SELECT', ARGV[1]) if redis.call('DBSIZE') == 0 then redis.call('FLUSHDB') return 1 end return 0", 0, String(db))) === 1;
    let flushed = false;
    for (let db = 15; db > 0 && !flushed; db--) flushed = await flushedEmpty(db);
    expect(flushed, 'this test needs an empty Redis database (1 to 15) to flush').toBe(true);
    await until('changed null');
  });

  it('says it is not live when its connection drops, then live again, and hears changes made after that', async () => {
    const { heard, until } = watch();
    await until('live');
    const clients = String(await other.client('LIST')).split('\n');
    const own = clients.find((line) => line.includes(` name=hanglink-${server.prefix}link:changes `));
    expect(own).toBeDefined();
    await other.client('KILL', 'ID', /\bid=(\d+)/.exec(own!)![1]!);
    await until('not live');
    await until('live', 2);
    expect(heard.filter((line) => !line.startsWith('changed'))).toEqual(['live', 'not live', 'live']);
    await otherStore.createLink(link('w-after'));
    await until('changed w-after');
  });

  it('says the server refused, and never that it is live, for a Redis user not allowed to track', async () => {
    const user = `hanglink-test-${nanoid(8)}`;
    const password = nanoid(24);
    await other.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all', '-client|tracking');
    closers.push(async () => {
      await other.call('ACL', 'DELUSER', user);
    });
    const limited = server.redis.duplicate({ username: user, password });
    closers.push(async () => {
      await limited.quit();
    });
    const { heard, until } = watch(limited);
    await until('refused …');
    expect(heard.find((line) => line.startsWith('refused'))).toMatch(/NOPERM/);
    await otherStore.createLink(link('w-untracked'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard).not.toContain('live');
    expect(heard).not.toContain('changed w-untracked');
  });

  it('hears nothing more once closed, and leaves no connection behind', async () => {
    const { heard, until, watching } = watch();
    await until('live');
    await watching.close();
    await otherStore.createLink(link('w-closed'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard).toEqual(['live']);
    const clients = String(await other.client('LIST'));
    expect(clients).not.toContain(`name=hanglink-${server.prefix}link:changes `);
  });
});
