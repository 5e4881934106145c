import type { ChainableCommander, Redis } from 'ioredis';
import type { ClickPolicy } from '../../domain/click.js';

/**
 * The Lua scripts behind the writes that must be all-or-nothing. Names carry the project and a
 * version so they cannot clash with other commands defined on a shared client, and a changed
 * script gets a new name rather than silently replacing an old one mid-deploy.
 */
const CREATE_LINK = 'hanglinkCreateLinkV1';
const WRITE_CLICKS = 'hanglinkWriteClicksV3';
const RECORD_ORDER = 'hanglinkRecordOrderV1';
const REFUND_ORDER = 'hanglinkRefundOrderV1';

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

// Writes a batch of clicks in order and counts them; mirrors classifyClick in src/domain/click.ts
// (the store contract suite holds both stores to the same results).
// ARGV: marker TTL s, repeat window ms, flood limit, then one JSON document per click:
//   { keys: [marker, seen, flood, stream, link total, counter hashes…], at, bot, fields, markerFields }
// One argument per click keeps the client's work per click small (the keys are built in keys.ts
// and travel in the document, which also means this script cannot run on Redis Cluster).
// The marker doubles as the "already written" flag, so a retried batch changes nothing; counts
// are summed in the script and written with one HINCRBY per hash and counter.
const WRITE_CLICKS_LUA = `
local ttl, window, floodLimit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local counted, order = {}, {}
local countersOf = { unique = {'clicks', 'uniqueClicks'}, ['repeat'] = {'clicks'}, bot = {'botClicks'}, suspect = {'suspectClicks'} }
for i = 4, #ARGV do
  local click = cjson.decode(ARGV[i])
  local keys = click.keys
  local marker, seen, flood, stream, total = keys[1], keys[2], keys[3], keys[4], keys[5]
  if redis.call('EXISTS', marker) == 0 then
    local at = tonumber(click.at)
    redis.call('HSET', marker, unpack(click.fields, 1, click.markerFields))
    redis.call('EXPIRE', marker, ttl)
    local kind
    if click.bot then
      kind = 'bot'
    else
      local taps = redis.call('INCR', flood)
      if taps == 1 then redis.call('EXPIRE', flood, 120) end
      if taps > floodLimit then
        kind = 'suspect'
      else
        local since = redis.call('GET', seen)
        if since and at - tonumber(since) < window then
          kind = 'repeat'
        else
          kind = 'unique'
          redis.call('SET', seen, click.at, 'PX', window + 60000)
        end
      end
    end
    redis.call('XADD', stream, '*', 'kind', kind, unpack(click.fields))
    if kind == 'unique' or kind == 'repeat' then redis.call('INCR', total) end
    for key = 6, #keys do
      local hash = keys[key]
      local c = counted[hash]
      if not c then c = {}; counted[hash] = c; order[#order + 1] = hash end
      for _, name in ipairs(countersOf[kind]) do c[name] = (c[name] or 0) + 1 end
    end
  end
end
for _, hash in ipairs(order) do
  for name, by in pairs(counted[hash]) do redis.call('HINCRBY', hash, name, by) end
end
return 1
`;

// KEYS: order, then the counter hashes the order counts in. ARGV: order JSON, amount, new customer ('1'/'0').
// The order key doubles as the "already recorded" flag, so a repeated order counts once.
const RECORD_ORDER_LUA = `
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
redis.call('SET', KEYS[1], ARGV[1])
for i = 2, #KEYS do
  redis.call('HINCRBY', KEYS[i], 'orders', 1)
  redis.call('HINCRBY', KEYS[i], 'gmvMinor', ARGV[2])
  if ARGV[3] == '1' then redis.call('HINCRBY', KEYS[i], 'newCustomers', 1) end
end
return false
`;

// KEYS: the order's refunded amount, then its counter hashes. ARGV: order amount, amount to refund
// ('' for all that is left), new customer ('1'/'0'). Refunding what is left also takes the order out.
const REFUND_ORDER_LUA = `
local total = tonumber(ARGV[1])
local refunded = tonumber(redis.call('GET', KEYS[1]) or '0')
local remaining = total - refunded
local amount = remaining
if ARGV[2] ~= '' then amount = tonumber(ARGV[2]) end
if amount <= 0 or amount > remaining then return {'exceeds-remaining', remaining} end
redis.call('INCRBY', KEYS[1], amount)
local closes = amount == remaining
for i = 2, #KEYS do
  redis.call('HINCRBY', KEYS[i], 'gmvMinor', -amount)
  if closes then
    redis.call('HINCRBY', KEYS[i], 'orders', -1)
    if ARGV[3] == '1' then redis.call('HINCRBY', KEYS[i], 'newCustomers', -1) end
  end
end
return {'refunded', refunded + amount}
`;

export type CreateLinkKeys = [link: string, externalId: string, merchant: string, note: string, campaign: string];

/** ['created'] | ['code-taken'] | ['external-id-exists', code of the existing link] */
export type CreateLinkReply = [outcome: 'created' | 'code-taken' | 'external-id-exists', existingCode?: string];

type ScriptedClient = Redis & {
  [CREATE_LINK](...keysThenArgs: string[]): Promise<CreateLinkReply>;
  [RECORD_ORDER](numberOfKeys: number, ...keysThenArgs: string[]): Promise<string | null>;
  [REFUND_ORDER](numberOfKeys: number, ...keysThenArgs: string[]): Promise<['refunded' | 'exceeds-remaining', number]>;
};
type ScriptedPipeline = ChainableCommander & {
  [WRITE_CLICKS](numberOfKeys: number, ...keysThenArgs: string[]): ScriptedPipeline;
};

export function defineScripts(redis: Redis) {
  redis.defineCommand(CREATE_LINK, { lua: CREATE_LINK_LUA, numberOfKeys: 5 });
  // The key count varies with the batch, so it is given per call.
  redis.defineCommand(WRITE_CLICKS, { lua: WRITE_CLICKS_LUA });
  redis.defineCommand(RECORD_ORDER, { lua: RECORD_ORDER_LUA });
  redis.defineCommand(REFUND_ORDER, { lua: REFUND_ORDER_LUA });
  const scripted = redis as ScriptedClient;
  return {
    createLink: (keys: CreateLinkKeys, json: string, member: string, code: string) =>
      scripted[CREATE_LINK](...keys, json, member, code),
    /** The stored order's JSON when the order was already recorded, else null. */
    recordOrder: (orderKey: string, counterKeys: readonly string[], json: string, amountMinor: number, newCustomer: boolean) =>
      scripted[RECORD_ORDER](1 + counterKeys.length, orderKey, ...counterKeys, json, String(amountMinor), newCustomer ? '1' : '0'),
    refundOrder: (refundedKey: string, counterKeys: readonly string[], totalMinor: number, amountMinor: number | null, newCustomer: boolean) =>
      scripted[REFUND_ORDER](
        1 + counterKeys.length,
        refundedKey,
        ...counterKeys,
        String(totalMinor),
        amountMinor === null ? '' : String(amountMinor),
        newCustomer ? '1' : '0',
      ),
    /** Queues one batch's click write on a pipeline; see WRITE_CLICKS_LUA for the layout. */
    queueClicksWrite: (pipeline: ChainableCommander, policy: ClickPolicy, ttlSeconds: number, clicks: readonly string[]) => {
      (pipeline as ScriptedPipeline)[WRITE_CLICKS](
        0,
        String(ttlSeconds),
        String(policy.repeatWindowMs),
        String(policy.floodLimitPerMinute),
        ...clicks,
      );
    },
  };
}
