import type { ChainableCommander, Redis } from 'ioredis';
import { type ClickKind, type ClickPolicy, COUNTERS_BY_KIND } from '../../domain/click.js';
import {
  AGENT_ARGS,
  CLICK_ARGS,
  COUNT_FIELDS,
  GROUP_TYPES,
  LINK_ARGS,
  MERCHANT_ARGS,
  STREAM_FIELD_NAMES,
  STREAM_SEPARATOR,
} from './click-fields.js';

/**
 * The Lua scripts behind the writes that must be all-or-nothing. Names carry the project and a
 * version so they cannot clash with other commands defined on a shared client, and a changed
 * script gets a new name rather than silently replacing an old one mid-deploy.
 */
const CREATE_LINK = 'hanglinkCreateLinkV1';
const SAVE_LINK = 'hanglinkSaveLinkV1';
const WRITE_CLICKS = 'hanglinkWriteClicksV17';
const FOLD_COUNTS = 'hanglinkFoldCountsV3';
const RECORD_ORDER = 'hanglinkRecordOrderV1';
const READ_COUNTERS = 'hanglinkReadCountersV1';
const REFUND_ORDER = 'hanglinkRefundOrderV2';

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
// written ('' for none; when it is not, nothing is written and 0 returned), the pending counts' head
// and the list of earlier versions, how many clicks may leave counts there before the call that
// brings them to it applies them all, then the batch as ClickBatchPacker lays it out
// (click-fields.ts): what the batch's clicks share once, then a fixed stride per click, all in one
// MessagePack argument (thousands of separate arguments cost the client more than unpacking costs
// the script). Keys travel in it, so this script cannot run on Redis Cluster.
// Per click: SET marker NX EX (the marker is the click's origin, and doubles as the "already
// written" flag, so a retried batch changes nothing), SET of the visitor's state on the link
// (unless a bot; the batch's states are read in one MGET first), XADD.
// Kinds are tallied per link, and the links' counts left pending (FOLD_PENDING).
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
const lua = (text: string) => `'${text}'`;
const luaByte = (char: string) => `\\${char.charCodeAt(0)}`;
const countField = (name: (typeof COUNT_FIELDS)[number]) => `fields[${COUNT_FIELDS.indexOf(name) + 1}]`;

// The entry's fields, in STREAM_PARTS' order: strings the script holds already (click-fields.ts).
const streamValues = ['kind', linkArg('fields'), agentArg('fields'), clickArg('tap')];
const streamEntry = STREAM_FIELD_NAMES.map((name, at) => `${lua(name)}, ${streamValues[at]}`).join(', ');
const counterNames = [...new Set(Object.values(COUNTERS_BY_KIND).flat())];
const kinds = Object.keys(COUNTERS_BY_KIND) as ClickKind[];
// Per kind, the places in counterNames of the counters COUNTERS_BY_KIND counts it in.
const countedIn = kinds.map((kind) => `{ ${COUNTERS_BY_KIND[kind].map((name) => counterNames.indexOf(name) + 1).join(', ')} }`);
const zeros = `{ ${counterNames.map(() => '0').join(', ')} }`;

// Counting clicks where they land cost nearly half the click script: a link that many visitors tap
// had its hashes incremented in every call. So a call adds each link's tally to the pending counts,
// one hash per click kind (a link's taps in one call are nearly always of one kind: one increment),
// keyed by the link's COUNT_FIELDS joined. They are applied together, in the step that takes them
// out: by the click call that brings the clicks written since the last fold to the limit, and before every
// read of counts (FOLD_COUNTS). Redis runs nothing else while a script runs, and no write of the
// fold can fail it halfway (add, below), so whichever process folds, no count is lost or applied
// twice, and reads see every written click. The link's click total is its 'clicks' count.
// Until script V9 a call pushed its tallies to a list, one MessagePack entry per call, and a fold
// unpacked every entry: with 1,000 links tapped evenly, pushing and folding took a fifth of Redis's
// instructions per click, where increments and folds of hashes take a seventh, and the fold took three
// times as long. A fold still applies what such a list holds.
// Expects the locals pendingHead (keys.pendingCounts) and legacyPendingKey (keys.legacyPendingCounts).
const FOLD_PENDING = `
-- Counts are formatted once per value, not per HINCRBY (tostring goes through printf).
local asText = setmetatable({}, { __index = function(known, value) local text = tostring(value); known[value] = text; return text end })
-- A key something other than hanglink overwrote (a counter that is no longer a number, say) must not
-- stop every click after it from being written: what cannot be added there is logged and skipped.
local function add(command, key, ...)
  local done = redis.pcall(command, key, ...)
  if type(done) == 'table' and done.err then
    redis.log(redis.LOG_WARNING, 'hanglink: counts for ' .. key .. ' skipped: ' .. done.err)
  end
  return done
end
local names, kinds, countedIn = { ${counterNames.map(lua).join(', ')} }, { ${kinds.map(lua).join(', ')} }, { ${countedIn.join(', ')} }
-- Until click script V13 the limit counted calls, under 'calls'; a fold removes what such a count left.
local pendingKeys, pendingClicks, legacyPendingCalls = {}, pendingHead .. 'clicks', pendingHead .. 'calls'
for k, kind in ipairs(kinds) do pendingKeys[k] = pendingHead .. kind end
local function foldPending()
  local sums, order = {}, {}
  local function sumOf(where)
    local sum = sums[where]
    if not sum then sum = ${zeros}; sums[where] = sum; order[#order + 1] = where end
    return sum
  end
  for k, key in ipairs(pendingKeys) do
    local pending, counters = redis.call('HGETALL', key), countedIn[k]
    for f = 1, #pending, 2 do
      local sum, taps = sumOf(pending[f]), tonumber(pending[f + 1])
      for _, i in ipairs(counters) do sum[i] = sum[i] + taps end
    end
  end
  for _, entry in ipairs(redis.call('LRANGE', legacyPendingKey, 0, -1)) do
    local counted = cmsgpack.unpack(entry)
    for e = 1, #counted, ${counterNames.length + 1} do
      local sum = sumOf(counted[e])
      for i = 1, ${counterNames.length} do sum[i] = sum[i] + counted[e + i] end
    end
  end
  redis.call('DEL', pendingClicks, legacyPendingCalls, legacyPendingKey, unpack(pendingKeys))
  -- Per merchant and hour (the head of COUNT_FIELDS), group type and id: the links' sums added up.
  local heads, merchants = {}, {}
  for _, where in ipairs(order) do
    local fields, from = {}, 1
    while true do
      local at = string.find(where, '${luaByte(STREAM_SEPARATOR)}', from, true)
      fields[#fields + 1] = string.sub(where, from, at and at - 1)
      if not at then break end
      from = at + 1
    end
    local sum = sums[where]
    if sum[${counterNames.indexOf('clicks') + 1}] > 0 then add('INCRBY', ${countField('total')}, asText[sum[${counterNames.indexOf('clicks') + 1}]]) end
    local head = ${countField('countersOf')} .. ' ' .. ${countField('hourBucket')}
    local merchant = merchants[head]
    if not merchant then
      merchant = { fields = fields, ${GROUP_TYPES.map(() => '{ ids = {}, sums = {} }').join(', ')} }
      merchants[head] = merchant
      heads[#heads + 1] = head
    end
${GROUP_TYPES.map(
  (type, t) => `    do
      local group, id = merchant[${t + 1}], ${countField(`${type}Id`)}
      local total = group.sums[id]
      if not total then total = ${zeros}; group.sums[id] = total; group.ids[#group.ids + 1] = id end
      for i = 1, ${counterNames.length} do total[i] = total[i] + sum[i] end
    end`,
).join('\n')}
  end
  local types = { ${GROUP_TYPES.map(lua).join(', ')} }
  for _, head in ipairs(heads) do
    local merchant = merchants[head]
    local fields = merchant.fields
    local hour, day = ':' .. ${countField('hourBucket')}, ':' .. ${countField('dayBucket')}
    for t = 1, ${GROUP_TYPES.length} do
      local group, counters = merchant[t], ${countField('countersOf')} .. types[t] .. ':'
      for _, id in ipairs(group.ids) do
        local total, hourly, daily = group.sums[id], counters .. id .. hour, counters .. id .. day
        for i = 1, ${counterNames.length} do
          if total[i] > 0 then
            local by = asText[total[i]]
            add('HINCRBY', hourly, names[i], by)
            add('HINCRBY', daily, names[i], by)
          end
        end
      end
      -- Lua's unpack takes a few thousand values at most.
      local ids, setKey = group.ids, ${countField('counterGroupsOf')} .. types[t]
      for from = 1, #ids, 1000 do add('SADD', setKey, unpack(ids, from, math.min(from + 999, #ids))) end
    end
  end
end
`;

// ARGV: the pending counts' head, the list of earlier versions. Applies what click writes left there (FOLD_PENDING).
const FOLD_COUNTS_LUA = `
local pendingHead, legacyPendingKey = ARGV[1], ARGV[2]
${FOLD_PENDING}
foldPending()
return 1
`;

const WRITE_CLICKS_LUA = `
local ttl, window, floodLimit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if ARGV[4] ~= '' and redis.call('EXISTS', ARGV[4]) == 0 then return 0 end
local pendingHead, legacyPendingKey, foldAt = ARGV[5], ARGV[6], tonumber(ARGV[7])
-- Numbers handed to redis.call are formatted on every call: this one is formatted once. A visit
-- outlives its repeat window, and the minute of any tap within it.
local visitTtl = tostring(window + 60000)
-- tonumber goes through strtod, twice: the places in the batch, the times of its taps and the
-- counts in visitors' states recur, and are converted once per call.
local asNumber = setmetatable({}, { __index = function(known, text) local value = tonumber(text); known[text] = value; return value end })
${FOLD_PENDING}
local A = cmsgpack.unpack(ARGV[8])
local n = #A
-- A[x + 1] is the first argument of the merchant, link, agent or click that starts at x.
local merchantsAt = 3
local linksAt = merchantsAt + tonumber(A[1]) * ${MERCHANT_ARGS.length}
local agentsAt = linksAt + tonumber(A[2]) * ${LINK_ARGS.length}
local clicksAt = agentsAt + tonumber(A[3]) * ${AGENT_ARGS.length}
-- A click stream something else overwrote fails the call before it writes anything: halfway through,
-- each retry would claim one more click's marker and lose its entry.
for m = merchantsAt, linksAt - 1, ${MERCHANT_ARGS.length} do
  local stream = ${merchantArg('stream')}
  local held = redis.call('TYPE', stream).ok
  if held ~= 'stream' and held ~= 'none' then return redis.error_reply('WRONGTYPE click stream ' .. stream .. ' holds a ' .. held) end
end
-- The visitors' states on their links, read in one MGET (a call holds CLICKS_PER_SCRIPT clicks, store.ts,
-- well within what unpack takes): a key of another type reads as no state, where a GET failed the
-- whole call on it.
-- A visitor tapping twice in a batch reads what the first tap wrote (states), as from Redis.
local visits, states = {}, {}
for c = clicksAt, n - 1, ${CLICK_ARGS.length} do visits[#visits + 1] = ${clickArg('visit')} end
local read = redis.call('MGET', unpack(visits))
for i, visit in ipairs(visits) do states[visit] = read[i] end
local tallies, links, written = {}, {}, 0
for c = clicksAt, n - 1, ${CLICK_ARGS.length} do
  local l = linksAt + asNumber[${clickArg('link')}] * ${LINK_ARGS.length}
  local at = ${clickArg('at')}
  if redis.call('SET', ${clickArg('marker')}, ${linkArg('fields')} .. '${luaByte(STREAM_SEPARATOR)}' .. at, 'NX', 'EX', ttl) then
    local m = merchantsAt + asNumber[${linkArg('merchant')}] * ${MERCHANT_ARGS.length}
    local a = agentsAt + asNumber[${clickArg('agent')}] * ${AGENT_ARGS.length}
    local kind
    if ${agentArg('bot')} == '1' then
      kind = 'bot'
    else
      -- The visitor's state on the link, read and written once: when its repeat window began, and the
      -- minute of its last counted tap with its taps in that minute (the flood rule).
      local visit, minute = ${clickArg('visit')}, ${clickArg('minute')}
      local since, lastMinute, taps
      local state = states[visit]
      if state then since, lastMinute, taps = string.match(state, '^(%d+) (%d+) (%d+)$') end
      -- A tap written after a later one of the visitor's (by another process, or after an outage) is
      -- judged by its own time: a minute before the state's keeps that minute's count and spends none
      -- of it, and the window start only ever moves forward.
      local tapsThisMinute = 1
      if lastMinute == minute then
        taps = asNumber[taps] + 1
        tapsThisMinute = taps
      elseif not lastMinute or asNumber[minute] > asNumber[lastMinute] then
        lastMinute, taps = minute, 1
      end
      if tapsThisMinute > floodLimit then
        kind = 'suspect'
      elseif since and math.abs(asNumber[at] - asNumber[since]) < window then
        kind = 'repeat'
      else
        kind = 'unique'
        if not since or asNumber[at] > asNumber[since] then since = at end
      end
      state = since .. ' ' .. lastMinute .. ' ' .. asText[taps]
      states[visit] = state
      -- A repeat falls within the window, whose end its state already outlives: its expiry stays
      -- (rewriting it was a sixth of the state's write, in Redis's instructions).
      if kind == 'repeat' then
        redis.call('SET', visit, state, 'KEEPTTL')
      else
        redis.call('SET', visit, state, 'PX', visitTtl)
      end
    end
    redis.call('XADD', ${merchantArg('stream')}, '*', ${streamEntry})
    local tally = tallies[l]
    if not tally then
      tally = { ${kinds.map((kind) => `[${lua(kind)}] = 0`).join(', ')} }
      tallies[l] = tally
      links[#links + 1] = l
    end
    tally[kind] = tally[kind] + 1
    written = written + 1
  end
end
-- A batch whose clicks were all written before leaves nothing pending.
if #links == 0 then return 1 end
for _, l in ipairs(links) do
  local tally, where = tallies[l], ${linkArg('counts')}
  for k, kind in ipairs(kinds) do
    local taps = tally[kind]
    if taps > 0 then add('HINCRBY', pendingKeys[k], where, asText[taps]) end
  end
end
local waiting = add('INCRBY', pendingClicks, asText[written])
if type(waiting) == 'number' and waiting >= foldAt then foldPending() end
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
// An order of 0 has nothing to refund but is still taken out so, once: its refunded amount, set to 0,
// says it was.
const REFUND_ORDER_LUA = `
local total = tonumber(ARGV[1])
local held = redis.call('GET', KEYS[1])
local refunded = tonumber(held or '0')
local remaining = total - refunded
local amount = remaining
if ARGV[2] ~= '' then amount = tonumber(ARGV[2]) end
local takesOutFreeOrder = total == 0 and amount == 0 and not held
if (amount <= 0 and not takesOutFreeOrder) or amount > remaining then return {'exceeds-remaining', remaining} end
redis.call('INCRBY', KEYS[1], amount)
local closes = amount == remaining
for i = 2, #KEYS do
  -- Lua writes minus zero as '-0', which HINCRBY refuses.
  if amount > 0 then redis.call('HINCRBY', KEYS[i], 'gmvMinor', -amount) end
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
  [FOLD_COUNTS](numberOfKeys: number, pendingHead: string, legacyPendingKey: string): ScriptedPipeline;
  [READ_COUNTERS](numberOfKeys: number, ...args: string[]): ScriptedPipeline;
};

/** Where counts wait until they are applied (FOLD_PENDING). */
export interface PendingCountKeys {
  /** What the hash per counter name, and the count of clicks written since the last fold, are named by (keys.pendingCounts). */
  head: string;
  /** The list counts waited in before hashes (keys.legacyPendingCounts). */
  legacyList: string;
}

/** What every click write is given besides its batch. */
export interface ClickWriteOptions {
  policy: ClickPolicy;
  ttlSeconds: number;
  pending: PendingCountKeys;
  /** How many clicks' counts may wait before the call that brings them to it applies them all. */
  foldAt: number;
}

/** One hash READ_COUNTERS found: the places (from 1) of its group id and bucket in the call, and its fields and values. */
export type FoundCounters = [idPlace: number, bucketPlace: number, fieldsAndValues: string[]];

export function defineScripts(redis: Redis) {
  redis.defineCommand(CREATE_LINK, { lua: CREATE_LINK_LUA, numberOfKeys: 5 });
  redis.defineCommand(SAVE_LINK, { lua: SAVE_LINK_LUA, numberOfKeys: 4 });
  // The key count varies with the batch, so it is given per call.
  redis.defineCommand(WRITE_CLICKS, { lua: WRITE_CLICKS_LUA });
  redis.defineCommand(FOLD_COUNTS, { lua: FOLD_COUNTS_LUA });
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
    /** Queues one batch's click write on a pipeline; `batch` is ClickBatchPacker's packed batch (click-fields.ts), `afterMarker` the key of the click that must be written first ('' for none). */
    queueClicksWrite: (pipeline: ChainableCommander, click: ClickWriteOptions, afterMarker: string, batch: Buffer) => {
      (pipeline as ScriptedPipeline)[WRITE_CLICKS](
        0,
        String(click.ttlSeconds),
        String(click.policy.repeatWindowMs),
        String(click.policy.floodLimitPerMinute),
        afterMarker,
        click.pending.head,
        click.pending.legacyList,
        String(click.foldAt),
        batch,
      );
    },
    /** Queues applying the counts that click writes left pending, so that reads queued after it see them. */
    queueFold: (pipeline: ChainableCommander, pending: PendingCountKeys) => {
      (pipeline as ScriptedPipeline)[FOLD_COUNTS](0, pending.head, pending.legacyList);
    },
  };
}
