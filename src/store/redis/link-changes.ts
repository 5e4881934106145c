import { type Redis, ReplyError } from 'ioredis';
import type { LinkChangeListener } from '../types.js';

// Where Redis sends a tracking client's invalidations; a RESP2 client gets them as Pub/Sub messages.
const INVALIDATIONS = '__redis__:invalidate';

/**
 * Hears every write to a key under `linkKeyHead`, by any client or script, through Redis client
 * tracking in broadcast mode. One connection of its own tracks, with its invalidations redirected
 * to itself, on RESP2: ioredis drops RESP3's invalidation pushes. Tracking lives and dies with that
 * connection, so each (re)connection sets it up again, and the listener hears `live(false)` when
 * it drops and `live(true)` once tracking is back.
 */
export function watchLinkChanges(redis: Redis, linkKeyHead: string, listener: LinkChangeListener): { close(): Promise<void> } {
  // Named after what it watches, so it can be told apart in CLIENT LIST.
  const connection = redis.duplicate({ protocol: 2, autoResubscribe: false, connectionName: `hanglink-${linkKeyHead}changes` });
  let live = false;
  let closed = false;

  const setUp = async () => {
    try {
      const id = await connection.client('ID');
      await connection.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id), 'BCAST', 'PREFIX', linkKeyHead);
      await connection.subscribe(INVALIDATIONS);
    } catch (error) {
      // A lost connection is set up again on the next 'ready'; a refusal (an ACL, a managed Redis
      // without the command) is the server's answer, told once per connection.
      if (!closed && error instanceof ReplyError) listener.refused(error as Error);
      return;
    }
    if (closed) return;
    live = true;
    listener.live(true);
  };

  connection.on('ready', () => void setUp());
  connection.on('close', () => {
    if (!live || closed) return;
    live = false;
    listener.live(false);
  });
  // The store's own connection reports an outage; this one would only say it again.
  connection.on('error', () => {});
  connection.on('messageBuffer', (channel: Buffer, keys: Buffer[] | null) => {
    if (closed || channel.toString() !== INVALIDATIONS) return;
    // No keys: Redis dropped every tracked key at once (FLUSHALL, FLUSHDB).
    if (keys === null) return listener.changed(null);
    for (const key of keys) listener.changed(key.toString().slice(linkKeyHead.length));
  });

  return {
    async close() {
      closed = true;
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
