import type { ChainableCommander, Redis } from 'ioredis';
import { type ClickPolicy, COUNTERS_BY_KIND } from '../../domain/click.js';
import { groupsOf } from '../groups.js';
import {
  AGENT_ARGS,
  CLICK_ARGS,
  LINK_ARGS,
  LINK_FIELDS,
  MERCHANT_ARGS,
  MERCHANT_STRIDE,
  STREAM_FIELD_NAME,
  STREAM_SEPARATOR,
} from './click-fields.js';

/**
 * The Lua scripts behind the writes that must be all-or-nothing. Names carry the project and a
 * version so they cannot clash with other commands defined on a shared client, and a changed
 * script gets a new name rather than silently replacing an old one mid-deploy.
 */
const CREATE_LINK = 'hanglinkCreateLinkV1';
const SAVE_LINK = 'hanglinkSaveLinkV1';
const WRITE_CLICKS = 'hanglinkWriteClicksV6';
const RECORD_ORDER = 'hanglinkRecordOrderV1';
const READ_COUNTERS = 'hanglinkReadCountersV1';
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

// KEYS: link, merchant index, note index, campaign index ('' for none). ARGV: link JSON, the JSON it
// must still hold, listing member ('' unless the link is now deleted, which takes it out of them).
const SAVE_LINK_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
if ARGV[3] ~= '' then
  redis.call('ZREM', KEYS[2], ARGV[3])
  redis.call('ZREM', KEYS[3], ARGV[3])
  if KEYS[4] ~= '' then redis.call('ZREM', KEYS[4], ARGV[3]) end
end
return 1
`;

// Writes a batch of clicks in order and counts them; mirrors classifyClick in src/domain/click.ts
// (the store contract suite holds both stores to the same results).
// ARGV: marker TTL s, repeat window ms, flood limit, the marker of the click that must already be
// written ('' for none; when it is not, nothing is written and 0 returned), then the batch as clickBatchArgs lays it out
// (click-fields.ts): what the batch's clicks share once, then a fixed stride per click, all in one
// MessagePack argument (thousands of separate arguments cost the client more than unpacking costs
// the script). Keys travel in it, so this script cannot run on Redis Cluster.
// Per click: SET marker NX EX (the marker is the click's origin, and doubles as the "already
// written" flag, so a retried batch changes nothing), INCR flood, SET seen NX GET (Redis 7), XADD. Kinds are
// tallied per link; at the end each link's total is added, its counts summed per merchant-hour,
// group type and group id, each counter hash incremented once per counter, and the groups that
// got clicks added to their sets (SADD).
// The script text is generated from the layout, so the two cannot disagree.
function argOf(names: readonly string[], base: string, name: string): string {
  const at = names.indexOf(name);
  if (at === -1) throw new Error(`click layout: no argument "${name}"`);
  return `A[${base} + ${at + 1}]`;
}
const merchantArg = (name: (typeof MERCHANT_ARGS)[number]) => argOf(MERCHANT_ARGS, 'm', name);
const linkArg = (name: (typeof LINK_ARGS)[number]) => argOf(LINK_ARGS, 'l', name);
const clickArg = (name: (typeof CLICK_ARGS)[number]) => argOf(CLICK_ARGS, 'c', name);
const agentArg = (name: (typeof AGENT_ARGS)[number]) => argOf(AGENT_ARGS, 'a', name);
/** A link's own field, wherever the batch carries it (the merchant's id comes with the merchant). */
const linkField = (name: string) =>
  (LINK_ARGS as readonly string[]).includes(name) ? argOf(LINK_ARGS, 'l', name) : argOf(MERCHANT_ARGS, 'm', name);
const lua = (text: string) => `'${text}'`;
const luaByte = (char: string) => `\\${char.charCodeAt(0)}`;

// The entry's one value, in STREAM_FIELDS' order (the agent's and the tap's fields come joined):
// Lua joins a chain of '..' in one step.
const streamValue = ['kind', ...LINK_FIELDS.map(linkField), agentArg('fields'), clickArg('tap')].join(` .. '${luaByte(STREAM_SEPARATOR)}' .. `);
// The group ids of a link, as groupsOf (src/store/groups.ts) takes them from a click.
const groupIds = groupsOf({ merchantId: 'merchantId', linkCode: 'linkCode', noteId: 'noteId', campaignId: 'campaignId' }).map(
  ([type, field]) => [type, linkField(field)] as const,
);
const counterNames = [...new Set(Object.values(COUNTERS_BY_KIND).flat())];
// Per counter, what a link's tally of kinds adds to it: the kinds COUNTERS_BY_KIND counts there.
const addends = counterNames
  .map((name) =>
    Object.entries(COUNTERS_BY_KIND)
      .filter(([, names]) => names.includes(name))
      .map(([kind]) => `tally[${lua(kind)}]`)
      .join(' + '),
  )
  .join(', ');

const WRITE_CLICKS_LUA = `
local ttl, window, floodLimit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if ARGV[4] ~= '' and redis.call('EXISTS', ARGV[4]) == 0 then return 0 end
-- Numbers handed to redis.call are formatted on every call: this one is formatted once.
local seenTtl = tostring(window + 60000)
-- tonumber and tostring go through strtod and printf, a fifth of a call's instructions if done per
-- use: the values that recur (places in the batch, counts) are converted once per call.
local asNumber = setmetatable({}, { __index = function(known, text) local value = tonumber(text); known[text] = value; return value end })
local asText = setmetatable({}, { __index = function(known, value) local text = tostring(value); known[value] = text; return text end })
local A = cmsgpack.unpack(ARGV[5])
local n = #A
-- A[x + 1] is the first argument of the merchant, link, agent or click that starts at x.
local merchantsAt = 3
local linksAt = merchantsAt + tonumber(A[1]) * ${MERCHANT_STRIDE}
local agentsAt = linksAt + tonumber(A[2]) * ${LINK_ARGS.length}
local clicksAt = agentsAt + tonumber(A[3]) * ${AGENT_ARGS.length}
local tallies, links = {}, {}
for c = clicksAt, n - 1, ${CLICK_ARGS.length} do
  local l = linksAt + asNumber[${clickArg('link')}] * ${LINK_ARGS.length}
  local at = ${clickArg('at')}
  if redis.call('SET', ${clickArg('marker')}, ${linkArg('markerHead')} .. at .. '}', 'NX', 'EX', ttl) then
    local m = merchantsAt + asNumber[${linkArg('merchant')}] * ${MERCHANT_STRIDE}
    local a = agentsAt + asNumber[${clickArg('agent')}] * ${AGENT_ARGS.length}
    local kind
    if ${agentArg('bot')} == '1' then
      kind = 'bot'
    else
      local flood = ${clickArg('flood')}
      local taps = redis.call('INCR', flood)
      if taps == 1 then redis.call('EXPIRE', flood, '120') end
      if taps > floodLimit then
        kind = 'suspect'
      else
        -- One call for the common cases: no window yet (set it: unique), or one still open (repeat).
        local seen = ${clickArg('seen')}
        local since = redis.call('SET', seen, at, 'NX', 'GET', 'PX', seenTtl)
        if not since then
          kind = 'unique'
        elseif tonumber(at) - tonumber(since) < window then
          kind = 'repeat'
        else
          kind = 'unique'
          redis.call('SET', seen, at, 'PX', seenTtl)
        end
      end
    end
    redis.call('XADD', ${merchantArg('stream')}, '*', ${lua(STREAM_FIELD_NAME)}, ${streamValue})
    local tally = tallies[l]
    if not tally then
      tally = { ${Object.keys(COUNTERS_BY_KIND).map((kind) => `[${lua(kind)}] = 0`).join(', ')} }
      tallies[l] = tally
      links[#links + 1] = l
    end
    tally[kind] = tally[kind] + 1
  end
end

-- Counts per merchant (and hour), group type and group id, as arrays in the order of names: a link
-- adds to its groups by id, and counter keys are built once per group rather than once per link.
local names = { ${counterNames.map(lua).join(', ')} }
local groups, merchants = {}, {}
local function add(byId, id, counts)
  local sum = byId[id]
  if not sum then
    sum = { ${counterNames.map(() => '0').join(', ')} }
    byId[id] = sum
    byId[#byId + 1] = id
  end
  for i = 1, ${counterNames.length} do sum[i] = sum[i] + counts[i] end
end
for _, l in ipairs(links) do
  local tally = tallies[l]
  local billable = tally.unique + tally['repeat']
  if billable > 0 then redis.call('INCRBY', ${linkArg('total')}, asText[billable]) end
  local m = merchantsAt + asNumber[${linkArg('merchant')}] * ${MERCHANT_STRIDE}
  local byType = groups[m]
  if not byType then byType = { ${groupIds.map(() => '{}').join(', ')} }; groups[m] = byType; merchants[#merchants + 1] = m end
  local counts = { ${addends} }
${groupIds.map(([, id], i) => `  add(byType[${i + 1}], ${id}, counts)`).join('\n')}
end
local types = { ${groupIds.map(([type]) => lua(type)).join(', ')} }
for _, m in ipairs(merchants) do
  local byType = groups[m]
  local hour, day = ':' .. ${merchantArg('hourBucket')}, ':' .. ${merchantArg('dayBucket')}
  for t = 1, ${groupIds.length} do
    local byId, head = byType[t], ${merchantArg('countersOf')} .. types[t] .. ':'
    for _, id in ipairs(byId) do
      local sum, hourly, daily = byId[id], head .. id .. hour, head .. id .. day
      for i = 1, ${counterNames.length} do
        if sum[i] > 0 then
          local by = asText[sum[i]]
          redis.call('HINCRBY', hourly, names[i], by)
          redis.call('HINCRBY', daily, names[i], by)
        end
      end
    end
    -- The ids are the array part of byId (the counts are under the ids as string keys).
    redis.call('SADD', A[m + ${MERCHANT_ARGS.length} + t], unpack(byId))
  end
end
return 1
`;

// Reads a group type's counter hashes in one call rather than one command each (a stats query over a
// week of 1,000 links is 8,000 of them, and a command costs the client far more than the script).
// ARGV: the type's key head (keys.countersOfType), the number of buckets, the buckets, then group ids.
// Returns each hash that holds counts as {place of the id, place of the bucket, its fields and values}.
const READ_COUNTERS_LUA = `
local head, buckets = ARGV[1], tonumber(ARGV[2])
local found = {}
for g = 3 + buckets, #ARGV do
  local group = head .. ARGV[g] .. ':'
  for b = 1, buckets do
    local hash = redis.call('HGETALL', group .. ARGV[2 + b])
    if #hash > 0 then found[#found + 1] = { g - 2 - buckets, b, hash } end
  end
end
return found
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
export type SaveLinkKeys = [link: string, merchant: string, note: string, campaign: string];

/** ['created'] | ['code-taken'] | ['external-id-exists', code of the existing link] */
export type CreateLinkReply = [outcome: 'created' | 'code-taken' | 'external-id-exists', existingCode?: string];

type ScriptedClient = Redis & {
  [CREATE_LINK](...keysThenArgs: string[]): Promise<CreateLinkReply>;
  [SAVE_LINK](...keysThenArgs: string[]): Promise<0 | 1>;
  [RECORD_ORDER](numberOfKeys: number, ...keysThenArgs: string[]): Promise<string | null>;
  [REFUND_ORDER](numberOfKeys: number, ...keysThenArgs: string[]): Promise<['refunded' | 'exceeds-remaining', number]>;
};
type ScriptedPipeline = ChainableCommander & {
  [WRITE_CLICKS](numberOfKeys: number, ...args: (string | Buffer)[]): ScriptedPipeline;
  [READ_COUNTERS](numberOfKeys: number, ...args: string[]): ScriptedPipeline;
};

/** One hash READ_COUNTERS found: the places (from 1) of its group id and bucket in the call, and its fields and values. */
export type FoundCounters = [idPlace: number, bucketPlace: number, fieldsAndValues: string[]];

export function defineScripts(redis: Redis) {
  redis.defineCommand(CREATE_LINK, { lua: CREATE_LINK_LUA, numberOfKeys: 5 });
  redis.defineCommand(SAVE_LINK, { lua: SAVE_LINK_LUA, numberOfKeys: 4 });
  // The key count varies with the batch, so it is given per call.
  redis.defineCommand(WRITE_CLICKS, { lua: WRITE_CLICKS_LUA });
  redis.defineCommand(RECORD_ORDER, { lua: RECORD_ORDER_LUA });
  redis.defineCommand(READ_COUNTERS, { lua: READ_COUNTERS_LUA });
  redis.defineCommand(REFUND_ORDER, { lua: REFUND_ORDER_LUA });
  const scripted = redis as ScriptedClient;
  return {
    createLink: (keys: CreateLinkKeys, json: string, member: string, code: string) =>
      scripted[CREATE_LINK](...keys, json, member, code),
    /** 1 when saved; 0 when the link no longer holds `expected` (nothing written). */
    saveLink: (keys: SaveLinkKeys, json: string, expected: string, deletedMember: string) => scripted[SAVE_LINK](...keys, json, expected, deletedMember),
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
    /** Queues a read of the counter hashes of `ids` in `buckets`; its reply is FoundCounters[]. */
    queueCountersRead: (pipeline: ChainableCommander, head: string, buckets: readonly string[], ids: readonly string[]) => {
      (pipeline as ScriptedPipeline)[READ_COUNTERS](0, head, String(buckets.length), ...buckets, ...ids);
    },
    /** Queues one batch's click write on a pipeline; `batch` is clickBatchArgs' packed batch (click-fields.ts), `afterMarker` the key of the click that must be written first ('' for none). */
    queueClicksWrite: (pipeline: ChainableCommander, policy: ClickPolicy, ttlSeconds: number, afterMarker: string, batch: Buffer) => {
      (pipeline as ScriptedPipeline)[WRITE_CLICKS](0, String(ttlSeconds), String(policy.repeatWindowMs), String(policy.floodLimitPerMinute), afterMarker, batch);
    },
  };
}
