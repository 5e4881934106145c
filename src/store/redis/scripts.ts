import type { ChainableCommander, Redis } from 'ioredis';

/**
 * The Lua scripts behind the writes that must be all-or-nothing. Names carry the project and a
 * version so they cannot clash with other commands defined on a shared client, and a changed
 * script gets a new name rather than silently replacing an old one mid-deploy.
 */
const CREATE_LINK = 'hanglinkCreateLinkV1';
const WRITE_CLICK = 'hanglinkWriteClickV1';

// KEYS: link, external id mapping, merchant index, note index, campaign index. An optional key
// that does not apply (no external id, no campaign) is passed as '' so the key count stays fixed.
// ARGV: link JSON, listing member, code.
const CREATE_LINK_LUA = `
local linkKey, externalIdKey, merchantIndex, noteIndex, campaignIndex = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if externalIdKey ~= '' then
  local existing = redis.call('GET', externalIdKey)
  if existing then return {'external-id-exists', existing} end
end
if redis.call('EXISTS', linkKey) == 1 then return {'code-taken'} end
redis.call('SET', linkKey, ARGV[1])
if externalIdKey ~= '' then redis.call('SET', externalIdKey, ARGV[3]) end
redis.call('ZADD', merchantIndex, 0, ARGV[2])
redis.call('ZADD', noteIndex, 0, ARGV[2])
if campaignIndex ~= '' then redis.call('ZADD', campaignIndex, 0, ARGV[2]) end
return {'created'}
`;

// KEYS: click marker, merchant click stream, link click counter.
// ARGV: marker TTL in seconds, how many of the leading field/value arguments the marker keeps,
// then the click's field/value pairs. The marker doubles as the "already written" flag, so a
// retried click changes nothing.
const WRITE_CLICK_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3, 2 + tonumber(ARGV[2])))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
redis.call('INCR', KEYS[3])
return 1
`;

export type CreateLinkKeys = [link: string, externalId: string, merchant: string, note: string, campaign: string];

/** ['created'] | ['code-taken'] | ['external-id-exists', code of the existing link] */
export type CreateLinkReply = [outcome: 'created' | 'code-taken' | 'external-id-exists', existingCode?: string];

type ScriptedClient = Redis & {
  [CREATE_LINK](...keysThenArgs: string[]): Promise<CreateLinkReply>;
};
type ScriptedPipeline = ChainableCommander & {
  [WRITE_CLICK](...keysThenArgs: string[]): ScriptedPipeline;
};

export function defineScripts(redis: Redis) {
  redis.defineCommand(CREATE_LINK, { lua: CREATE_LINK_LUA, numberOfKeys: 5 });
  redis.defineCommand(WRITE_CLICK, { lua: WRITE_CLICK_LUA, numberOfKeys: 3 });
  const scripted = redis as ScriptedClient;
  return {
    createLink: (keys: CreateLinkKeys, json: string, member: string, code: string) =>
      scripted[CREATE_LINK](...keys, json, member, code),
    /** Queues one click write on a pipeline; see WRITE_CLICK_LUA for the arguments. */
    queueClickWrite: (
      pipeline: ChainableCommander,
      keys: [marker: string, stream: string, counter: string],
      ttlSeconds: number,
      markerArgs: number,
      pairs: readonly string[],
    ) => {
      (pipeline as ScriptedPipeline)[WRITE_CLICK](...keys, String(ttlSeconds), String(markerArgs), ...pairs);
    },
  };
}
