import type { ChainableCommander, Redis } from 'ioredis';
import type { Link } from '../../domain/link.js';
import type { Merchant } from '../../domain/merchant.js';
import { codeOfMember, listingMember, liveLinks, pageOfMembers, type MemberFilter } from '../listing.js';
import { type ClickPolicy, DEFAULT_CLICK_POLICY } from '../../domain/click.js';
import { clickLifetimeSeconds, DEFAULT_ATTRIBUTION_WINDOW_MS } from '../../domain/conversion.js';
import type { CounterName, GroupCounters, Store } from '../types.js';
import { ClicksOutOfOrder } from '../errors.js';
import { redisAttribution } from './attribution.js';
import { ClickBatchPacker } from './click-fields.js';
import { redisKeys } from './keys.js';
import { watchLinkChanges } from './link-changes.js';
import { type ClickWriteOptions, defineScripts, type FoundCounters } from './scripts.js';

export interface RedisStoreOptions {
  /** Namespace for every key; lets several deployments or test runs share one Redis. */
  prefix?: string;
  /** How long a click id stays known: the attribution window plus a day of slack. */
  clickTtlSeconds?: number;
  clickPolicy?: ClickPolicy;
  /** How many clicks' counts wait to be applied together (scripts.ts, FOLD_PENDING); 1 applies each call's at once. */
  countsFoldAt?: number;
}

const DEFAULT_CLICK_TTL_SECONDS = clickLifetimeSeconds(DEFAULT_ATTRIBUTION_WINDOW_MS);
// Bound how long one script holds Redis.
const CLICKS_PER_SCRIPT = 200;
const COUNTER_HASHES_PER_SCRIPT = 2000;
// Counted in clicks, not calls, because how many clicks a call carries moves with the load: a limit
// of 128 calls, when calls carried 30 to 70 clicks, folded every 5,000 clicks or so. At 25,000
// clicks/s this is a fold about every second, applying 25,600 clicks' counts at one increment per
// link and counter rather than one per call. A fold's length grows with the links whose counts wait,
// not with the clicks that left them: over 1,000 links it holds Redis about 26 ms on a 2-core test
// machine where a 200-click call takes about 4 (when calls pushed their counts to a list, 80–100 ms).
// Folding less often would save a little more per click, but lets more links' counts wait, and a
// fold over a long tail of links would hold Redis that much longer.
const DEFAULT_COUNTS_FOLD_AT = 25_600;

// What ioredis says when Redis is down, restarting or unreachable, rather than when a command is wrong.
const UNREACHABLE = /Command timed out|Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|LOADING|Reached the max retries/;
// What Redis answers when it cannot take a command for now: a replica (where a failover left the URL
// pointing), a replica cut off from its primary, busy with a script past its time limit.
const NOT_NOW = /^(READONLY|MASTERDOWN|BUSY|TRYAGAIN) /;
// What Redis says at maxmemory under noeviction: it refuses writes, whole (a transaction with one refused
// command is discarded, and a script is refused at its first write, before anything is written).
const OUT_OF_MEMORY = /^OOM /;

/** The error itself, and for a discarded transaction (EXECABORT) the errors of the commands in it. */
function repliesIn(error: Error): Error[] {
  const { previousErrors } = error as Error & { previousErrors?: unknown };
  return Array.isArray(previousErrors) ? [error, ...previousErrors.filter((earlier): earlier is Error => earlier instanceof Error)] : [error];
}

function counts(fieldsAndValues: readonly string[]): Partial<Record<CounterName, number>> {
  const named: Partial<Record<string, number>> = {};
  for (let i = 0; i < fieldsAndValues.length; i += 2) named[fieldsAndValues[i]!] = Number(fieldsAndValues[i + 1]);
  return named;
}

/** Runs a pipeline or transaction and fails if any command in it failed, not just the batch. */
async function execAll(batch: ChainableCommander): Promise<unknown[]> {
  const replies = await batch.exec();
  if (replies === null) throw new Error('Redis discarded the transaction');
  return replies.map(([error, reply]) => {
    if (error !== null) throw error;
    return reply;
  });
}

function parse<T>(json: string | null): T | null {
  return json === null ? null : (JSON.parse(json) as T);
}

export function createRedisStore(redis: Redis, options: RedisStoreOptions = {}): Store {
  const keys = redisKeys(options.prefix);
  const clickBatches = new ClickBatchPacker(keys);
  const clickWrite: ClickWriteOptions = {
    policy: options.clickPolicy ?? DEFAULT_CLICK_POLICY,
    ttlSeconds: options.clickTtlSeconds ?? DEFAULT_CLICK_TTL_SECONDS,
    pending: { head: keys.pendingCounts(), legacyList: keys.legacyPendingCounts() },
    foldAt: options.countsFoldAt ?? DEFAULT_COUNTS_FOLD_AT,
  };
  const scripts = defineScripts(redis);
  /** A pipeline whose reads see the counts of every click written before it. */
  const countedPipeline = () => {
    const pipeline = redis.pipeline();
    scripts.queueFold(pipeline, clickWrite.pending);
    return pipeline;
  };

  /** The listings a link is in, as the link scripts take them: merchant, note, campaign ('' for none). */
  const listingKeys = (link: Link): [merchant: string, note: string, campaign: string] => [
    keys.merchantLinks(link.merchantId),
    keys.noteLinks(link.merchantId, link.noteId),
    link.campaignId === null ? '' : keys.campaignLinks(link.merchantId, link.campaignId),
  ];

  const getMerchant = async (id: string) => parse<Merchant>(await redis.get(keys.merchant(id)));
  const getLink = async (code: string) => parse<Link>(await redis.get(keys.link(code)));

  return {
    ...redisAttribution(redis, keys, scripts),

    async createMerchant(merchant, apiKeyHash) {
      await execAll(
        redis
          .multi()
          .set(keys.merchant(merchant.id), JSON.stringify(merchant))
          .set(keys.apiKey(apiKeyHash), merchant.id),
      );
    },

    async merchantByKeyHash(apiKeyHash) {
      const id = await redis.get(keys.apiKey(apiKeyHash));
      return id === null ? null : getMerchant(id);
    },

    getMerchant,

    async setApprovedCategories(id, categories) {
      const merchant = await getMerchant(id);
      if (merchant === null) return null;
      const updated = { ...merchant, approvedCategories: [...categories] };
      await redis.set(keys.merchant(id), JSON.stringify(updated));
      return updated;
    },

    async createLink(link) {
      const [outcome, existingCode] = await scripts.createLink(
        [
          keys.link(link.code),
          link.externalId === null ? '' : keys.externalId(link.merchantId, link.externalId),
          ...listingKeys(link),
        ],
        JSON.stringify(link),
        listingMember(link),
        link.code,
      );
      if (outcome === 'created') return { created: true, link };
      if (outcome === 'code-taken') return { created: false, reason: 'code-taken' };
      // A link's JSON outlives its deletion, so the code the mapping named is still readable here.
      const existing = existingCode === undefined ? null : await getLink(existingCode);
      if (existing === null) {
        throw new Error(`external id "${link.externalId}" of merchant "${link.merchantId}" maps to a missing link`);
      }
      return { created: false, reason: 'external-id-exists', link: existing };
    },

    getLink,

    async saveLink(link, previous) {
      const deleted = link.status === 'deleted';
      const saved = await scripts.saveLink(
        [
          keys.link(link.code),
          ...listingKeys(link),
        ],
        JSON.stringify(link),
        JSON.stringify(previous),
        deleted ? listingMember(link) : '',
      );
      return saved === 1;
    },

    async listLinks(merchantId, { noteId, campaignId }, limit, cursor) {
      const indexKey =
        noteId !== undefined
          ? keys.noteLinks(merchantId, noteId)
          : campaignId !== undefined
            ? keys.campaignLinks(merchantId, campaignId)
            : keys.merchantLinks(merchantId);
      const index = {
        membersAfter: (after: string | null, count: number) =>
          redis.zrange(indexKey, after === null ? '+' : `(${after}`, '-', 'BYLEX', 'REV', 'LIMIT', 0, count),
      };
      // Members are identical across a merchant's indexes, so "also in this campaign" is a score lookup.
      const inCampaign: MemberFilter | null =
        noteId !== undefined && campaignId !== undefined
          ? async (members) => {
              if (members.length === 0) return [];
              const scores = await redis.zmscore(keys.campaignLinks(merchantId, campaignId), ...members);
              return members.filter((_, i) => scores[i] !== null);
            }
          : null;
      const { members, nextCursor } = await pageOfMembers(index, inCampaign, limit, cursor);
      if (members.length === 0) return { links: [], nextCursor };
      const stored = await redis.mget(members.map((member) => keys.link(codeOfMember(member))));
      return { links: liveLinks(stored.map((json) => parse<Link>(json))), nextCursor };
    },

    async writeClicks(clicks, after) {
      if (clicks.length === 0) return;
      const pipeline = redis.pipeline();
      // Each call lands only after the one before it, so a call that failed cannot be overtaken.
      let before = after;
      for (let from = 0; from < clicks.length; from += CLICKS_PER_SCRIPT) {
        const part = clicks.slice(from, from + CLICKS_PER_SCRIPT);
        scripts.queueClicksWrite(pipeline, clickWrite, before === undefined ? '' : keys.click(before), clickBatches.pack(part));
        before = part[part.length - 1]!.clickId;
      }
      const written = await execAll(pipeline);
      if (written.includes(0)) throw new ClicksOutOfOrder(after);
    },

    async clickCounts(codes) {
      const counts = new Map<string, number>();
      if (codes.length === 0) return counts;
      const [, stored] = (await execAll(countedPipeline().mget(codes.map((code) => keys.linkClicks(code))))) as [unknown, (string | null)[]];
      codes.forEach((code, i) => counts.set(code, Number(stored[i] ?? 0)));
      return counts;
    },

    async readCounters(merchantId, groupType, buckets) {
      const result = new Map<string, GroupCounters>();
      const [, ids] = (await execAll(countedPipeline().smembers(keys.counterGroups(merchantId, groupType)))) as [unknown, string[]];
      if (ids.length === 0 || buckets.length === 0) return result;
      const idsPerCall = Math.max(1, Math.floor(COUNTER_HASHES_PER_SCRIPT / buckets.length));
      const pipeline = redis.pipeline();
      for (let from = 0; from < ids.length; from += idsPerCall) {
        scripts.queueCountersRead(pipeline, keys.countersOfType(merchantId, groupType), buckets, ids.slice(from, from + idsPerCall));
      }
      const replies = (await execAll(pipeline)) as FoundCounters[][];
      replies.forEach((found, call) => {
        for (const [idPlace, bucketPlace, fieldsAndValues] of found) {
          const id = ids[call * idsPerCall + idPlace - 1]!;
          const perBucket: GroupCounters = result.get(id) ?? new Map();
          perBucket.set(buckets[bucketPlace - 1]!, counts(fieldsAndValues));
          result.set(id, perBucket);
        }
      });
      return result;
    },

    async countGroups(merchantId, groupType) {
      const [, groups] = (await execAll(countedPipeline().scard(keys.counterGroups(merchantId, groupType)))) as [unknown, number];
      return groups;
    },

    async countRequest(subject, window, windowMs) {
      const key = keys.rateWindow(subject, window);
      const [count] = (await execAll(redis.multi().incr(key).pexpire(key, windowMs * 2))) as [number];
      return count;
    },

    outage(error) {
      if (!(error instanceof Error)) return null;
      if (error.name === 'MaxRetriesPerRequestError' || UNREACHABLE.test(error.message)) return 'unreachable';
      const replies = repliesIn(error);
      if (replies.some((reply) => NOT_NOW.test(reply.message))) return 'unreachable';
      return replies.some((reply) => OUT_OF_MEMORY.test(reply.message)) ? 'full' : null;
    },

    watchLinkChanges(listener) {
      return watchLinkChanges(redis, keys.link(''), listener);
    },

    async ping() {
      await redis.ping();
    },

    async close() {
      // QUIT needs a connection: a client that never got one (Redis away) would keep trying to reconnect.
      if (redis.status === 'ready') await redis.quit();
      else redis.disconnect();
    },
  };
}
