import type { ClickKind, ClickRoute, StoredClick } from '../../domain/click.js';
import { dayBucket, hourBucket, minuteOf } from '../../domain/time-buckets.js';
import { groupsOf } from '../groups.js';
import type { ClassifiedClick, ClickOrigin, GroupType } from '../types.js';
import type { RedisKeys } from './keys.js';
import { occurrences, packAsciiStrings, packStrings } from './msgpack.js';

/**
 * How clicks travel to the write script and how a click lies in the stream.
 *
 * A stream entry has four fields, STREAM_PARTS: the script's `kind`, then the link's, the user
 * agent's and the tap's fields below. Each of the last three is named by the values it holds
 * (joined by ','), and holds them in that order, joined by STREAM_SEPARATOR. Redis pays per field
 * of an XADD and per value a script hands it: one field rather than one per value took 6% off the
 * script's instructions per click. Four fields rather than one take 2% more off, for about 4 bytes
 * more an entry: each is a string the script already holds, where one field's value had to be built
 * per click, and every string a script builds is hashed byte by byte (see the click marker below).
 * The names still say what each value is, so a reader needs no other schema (streamEntryFields).
 *
 * The fields are sent to the script in parts, so that what many clicks share is sent once per batch:
 * - per merchant and hour: where its clicks go and count;
 * - per link: its LINK_FIELDS joined, which head its clicks' markers, and where it counts;
 * - per user agent: the raw header and what was derived from it (a campaign's visitors share a
 *   handful, and the header is most of a click's bytes);
 * - per click: its own keys and fields, naming its link and user agent by their place in the batch.
 * The script writes each stream entry, and the counter keys, from the parts (see scripts.ts). What
 * only the stream entry needs (a user agent's fields, a click's TAP_FIELDS) comes already joined by
 * STREAM_SEPARATOR: the script takes fewer arguments out of the batch (msgpack.ts).
 */
export const LINK_FIELDS = ['merchantId', 'linkCode', 'noteId', 'campaignId'] as const;
export const AGENT_FIELDS = ['userAgent', 'bot', 'deviceType', 'platform', 'os', 'osVersion', 'browser', 'browserVersion', 'inApp'] as const;
export const TAP_FIELDS = ['clickId', 'at', 'visitorId', 'route', 'referrer', 'acceptLanguage', 'ipPrefix'] as const;

/** What a stream entry holds, in order: the values of each part make one field. */
export const STREAM_PARTS = [['kind'], LINK_FIELDS, AGENT_FIELDS, TAP_FIELDS] as const;
/** The names of a stream entry's fields: their own schema. */
export const STREAM_FIELD_NAMES = STREAM_PARTS.map((part) => part.join(',')) as [string, string, string, string];

/** The counter groups a click counts in, in groupsOf's order. */
export const GROUP_TYPES: readonly GroupType[] = groupsOf({ merchantId: '', linkCode: '', noteId: '', campaignId: '' }).map(([type]) => type);

/**
 * Argument layout of one batch (after the policy arguments; a MessagePack array of strings), indexes 0-based:
 *   merchant count, link count, agent count,
 *   per merchant: MERCHANT_ARGS
 *   per link:     LINK_ARGS ('counts': COUNT_FIELDS joined by STREAM_SEPARATOR)
 *   per agent:    AGENT_ARGS ('fields': AGENT_FIELDS joined by STREAM_SEPARATOR)
 *   per click:    CLICK_ARGS ('tap': TAP_FIELDS joined by STREAM_SEPARATOR)
 * A merchant here is a merchant within one hour, as is a link: its counters' buckets come with it.
 */
export const MERCHANT_ARGS = ['stream'] as const;
export const LINK_ARGS = ['merchant', 'fields', 'counts'] as const;
/**
 * Where a link's clicks count, as one string: the script leaves it pending with the link's counts
 * and whichever call applies them reads it (scripts.ts, FOLD_PENDING). The merchant's part (its
 * counter keys' heads and buckets) comes first, then the link's click total and its id in each of
 * GROUP_TYPES, in that order.
 */
export const COUNT_FIELDS = ['countersOf', 'hourBucket', 'dayBucket', 'counterGroupsOf', 'total', ...GROUP_TYPES.map((type) => `${type}Id`)] as const;
export const AGENT_ARGS = ['bot', 'fields'] as const;
export const CLICK_ARGS = ['marker', 'visit', 'minute', 'link', 'agent', 'at', 'tap'] as const;

/**
 * Joins the values of a stream entry. A control character: headers reach the store cleaned to
 * printable ASCII, ids are printable by their patterns.
 */
export const STREAM_SEPARATOR = '\x1f';

/**
 * A click marker holds the click's origin: its merchant, link, note and campaign ids ('' for none)
 * and its `at`, joined by STREAM_SEPARATOR. The ids are the link's fields as its stream entries hold
 * them, which a batch carries once per link; the script appends the separator and `at`.
 *
 * Every string a script makes, Redis's Lua interns: it copies it and hashes every byte (Redis 7
 * hashes all of them, redis/redis#9449), so a script's cost grows with the bytes of the strings it
 * makes. Markers used to be JSON of the same fields, twice as long (in memory too).
 */
function linkFields(click: StoredClick, plain: (value: string) => string): string {
  return LINK_FIELDS.map((field) => plain(click[field] ?? '')).join(STREAM_SEPARATOR);
}

export function parseMarker(value: string): ClickOrigin {
  // Markers written before this layout were JSON, and live out their TTL as such.
  if (value.startsWith('{')) {
    const origin = JSON.parse(value) as ClickOrigin;
    return originOf(origin.merchantId, origin.linkCode, origin.noteId, origin.campaignId ?? '', origin.at);
  }
  const [merchantId = '', linkCode = '', noteId = '', campaignId = '', at = ''] = value.split(STREAM_SEPARATOR);
  return originOf(merchantId, linkCode, noteId, campaignId, Number(at));
}

// As in the stream, a campaign id of '' is no campaign.
const originOf = (merchantId: string, linkCode: string, noteId: string, campaignId: string, at: number): ClickOrigin => ({
  merchantId,
  linkCode,
  noteId,
  campaignId: campaignId === '' ? null : campaignId,
  at,
});

/** Markers written before the string layout were hashes of the same fields (campaignId '' for none). */
export function parseLegacyMarker(hash: Record<string, string>): ClickOrigin | null {
  if (hash.merchantId === undefined) return null;
  return originOf(hash.merchantId, hash.linkCode ?? '', hash.noteId ?? '', hash.campaignId ?? '', Number(hash.at));
}

const HOUR_MS = 3_600_000;

const SEPARATORS = new RegExp(STREAM_SEPARATOR, 'g');
const withoutSeparators = (value: string) => value.replace(SEPARATORS, '?');

/** What a batch says of a link besides its merchant's part of the counts, built again only when the link changes. */
interface LinkParts {
  merchantId: string;
  noteId: string;
  campaignId: string | null;
  /** LINK_FIELDS, joined. */
  fields: string;
  /** COUNT_FIELDS after the merchant's part, joined. */
  countsTail: string;
}

function linkParts(click: StoredClick, keys: RedisKeys, plain: (value: string) => string): LinkParts {
  const groupIds = groupsOf(click).map(([, id]) => plain(id));
  return {
    merchantId: click.merchantId,
    noteId: click.noteId,
    campaignId: click.campaignId,
    fields: linkFields(click, plain),
    countsTail: [plain(keys.linkClicks(click.linkCode)), ...groupIds].join(STREAM_SEPARATOR),
  };
}

// Far more than the links a gateway's taps go to within a minute; past it the cache starts again.
const MAX_CACHED_LINKS = 10_000;

/**
 * Packs batches of clicks as the script's argument: the layout above, packed (msgpack.ts). A value
 * that holds the stream separator anyway (nothing the gateway lets through) has it replaced by '?',
 * as the gateway replaces other unprintable characters, rather than shifting every field after it
 * in the stream entry: the separators are counted, and a batch with more than its layout puts there
 * is built again from cleaned values.
 *
 * A link's parts are kept from one batch to the next: with many links tapped, nearly every click
 * of a batch is its link's first, and building them took a quarter of the time to pack a batch.
 */
export class ClickBatchPacker {
  private readonly links = new Map<string, LinkParts>();

  constructor(private readonly keys: RedisKeys) {}

  pack(clicks: readonly StoredClick[]): Buffer {
    const built = clickBatch(clicks, this.keys, (value) => value, (click) => this.partsOf(click));
    // Headers reach the store cleaned to printable ASCII, and ids are ASCII by their patterns.
    const ascii = packAsciiStrings(built.sections, STREAM_SEPARATOR);
    const separators = ascii === null ? separatorsIn(built.sections) : ascii.charsInValues;
    if (separators !== built.separators) {
      return packStrings(clickBatch(clicks, this.keys, withoutSeparators, (click) => linkParts(click, this.keys, withoutSeparators)).sections);
    }
    return ascii === null ? packStrings(built.sections) : ascii.packed;
  }

  private partsOf(click: StoredClick): LinkParts {
    const known = this.links.get(click.linkCode);
    if (known !== undefined && known.merchantId === click.merchantId && known.noteId === click.noteId && known.campaignId === click.campaignId) {
      return known;
    }
    if (this.links.size >= MAX_CACHED_LINKS) this.links.clear();
    const parts = linkParts(click, this.keys, (value) => value);
    this.links.set(click.linkCode, parts);
    return parts;
  }
}

function separatorsIn(sections: readonly (readonly string[])[]): number {
  let count = 0;
  for (const section of sections) for (const value of section) count += occurrences(value, STREAM_SEPARATOR);
  return count;
}

const sameLink = (a: StoredClick, b: StoredClick) => a.noteId === b.noteId && a.campaignId === b.campaignId;
const sameAgent = (a: StoredClick, b: StoredClick) =>
  a.bot === b.bot &&
  a.deviceType === b.deviceType &&
  a.platform === b.platform &&
  a.os === b.os &&
  a.osVersion === b.osVersion &&
  a.browser === b.browser &&
  a.browserVersion === b.browserVersion &&
  a.inApp === b.inApp;

/**
 * Numbers the distinct values of a batch: looked up by one field (no key built per click), the
 * first click of each kept to tell apart the rare values that share that field.
 */
class Distinct {
  private readonly byField = new Map<string, number[]>();
  readonly firsts: StoredClick[] = [];

  /** The click's number, and whether it is new. */
  place(field: string, click: StoredClick, same: (a: StoredClick, b: StoredClick) => boolean): [number, boolean] {
    let candidates = this.byField.get(field);
    if (candidates === undefined) {
      candidates = [];
      this.byField.set(field, candidates);
    } else {
      for (const index of candidates) if (same(this.firsts[index] as StoredClick, click)) return [index, false];
    }
    const index = this.firsts.length;
    candidates.push(index);
    this.firsts.push(click);
    return [index, true];
  }
}

/**
 * The layout's sections in order (counts, merchants, links, agents, clicks; none is ever empty),
 * with how many stream separators the joined values hold. Every value passes `plain`, and so must
 * the parts `partsOf` gives.
 */
function clickBatch(
  clicks: readonly StoredClick[],
  keys: RedisKeys,
  plain: (value: string) => string,
  partsOf: (click: StoredClick) => LinkParts,
): { sections: string[][]; separators: number } {
  // A merchant here is a merchant within an hour: a batch rarely holds more than one or two.
  const merchants = new Map<string, number>();
  let lastMerchant = { id: '', hour: NaN, index: -1 };
  const links = new Distinct();
  const agents = new Distinct();
  const merchantArgs: string[] = [];
  // Per merchant (and hour): the head of its links' COUNT_FIELDS, joined.
  const merchantCounts: string[] = [];
  const linkArgs: string[] = [];
  const agentArgs: string[] = [];
  // Sized up front: a batch is thousands of fields, and growing the array copies it.
  const clickArgs = new Array<string>(clicks.length * CLICK_ARGS.length);
  let next = 0;
  for (const click of clicks) {
    const { merchantId, linkCode, at } = click;
    const hour = Math.floor(at / HOUR_MS);
    let merchant = lastMerchant.index;
    if (merchantId !== lastMerchant.id || hour !== lastMerchant.hour) {
      const merchantKey = `${merchantId}\n${hour}`;
      const known = merchants.get(merchantKey);
      if (known === undefined) {
        merchant = merchants.size;
        merchants.set(merchantKey, merchant);
        merchantArgs.push(plain(keys.clickStream(merchantId)));
        merchantCounts.push([keys.countersOf(merchantId), hourBucket(at), dayBucket(at), keys.counterGroupsOf(merchantId)].map(plain).join(STREAM_SEPARATOR));
      } else {
        merchant = known;
      }
      lastMerchant = { id: merchantId, hour, index: merchant };
    }
    // A link's number also depends on its merchant and hour: the link codes in a batch are looked up per merchant.
    const [link, newLink] = links.place(`${merchant}\n${linkCode}`, click, sameLink);
    if (newLink) {
      const parts = partsOf(click);
      const counts = `${merchantCounts[merchant]}${STREAM_SEPARATOR}${parts.countsTail}`;
      linkArgs.push(String(merchant), parts.fields, counts);
    }
    const [agent, newAgent] = agents.place(click.userAgent, click, sameAgent);
    if (newAgent) {
      const bot = click.bot ? '1' : '0';
      const fields = [click.userAgent, bot, click.deviceType, click.platform, click.os, click.osVersion, click.browser, click.browserVersion, click.inApp];
      agentArgs.push(bot, fields.map(plain).join(STREAM_SEPARATOR));
    }
    const time = String(at);
    clickArgs[next++] = plain(keys.click(click.clickId));
    clickArgs[next++] = plain(keys.visit(linkCode, click.visitorId));
    clickArgs[next++] = String(minuteOf(at));
    clickArgs[next++] = String(link);
    clickArgs[next++] = String(agent);
    clickArgs[next++] = time;
    // TAP_FIELDS, in order.
    clickArgs[next++] =
      `${plain(click.clickId)}${STREAM_SEPARATOR}${time}${STREAM_SEPARATOR}${plain(click.visitorId)}${STREAM_SEPARATOR}${plain(click.route)}` +
      `${STREAM_SEPARATOR}${plain(click.referrer)}${STREAM_SEPARATOR}${plain(click.acceptLanguage)}${STREAM_SEPARATOR}${plain(click.ipPrefix)}`;
  }
  if (next !== clickArgs.length) throw new Error(`click layout: ${next} click arguments, expected ${clickArgs.length}`);
  return {
    sections: [[String(merchants.size), String(links.firsts.length), String(agents.firsts.length)], merchantArgs, linkArgs, agentArgs, clickArgs],
    separators:
      links.firsts.length * (COUNT_FIELDS.length - 1 + LINK_FIELDS.length - 1) +
      agents.firsts.length * (AGENT_FIELDS.length - 1) +
      clicks.length * (TAP_FIELDS.length - 1),
  };
}

/**
 * A stream entry's fields by name, as XRANGE returns it (name, value, name, value...). A field whose
 * name lists several (the packed layout) is split into them; entries written before that layout
 * had a field per value, and read the same.
 */
export function streamEntryFields(entries: readonly string[]): Map<string, string> {
  const field = new Map<string, string>();
  for (let i = 0; i + 1 < entries.length; i += 2) {
    const name = entries[i] as string;
    const value = entries[i + 1] as string;
    if (!name.includes(',')) {
      field.set(name, value);
      continue;
    }
    const values = value.split(STREAM_SEPARATOR);
    name.split(',').forEach((part, at) => field.set(part, values[at] ?? ''));
  }
  return field;
}

/** The inverse of the stream layout for one stream entry (which also carries the script's `kind`). */
export function clickFromFields(entries: readonly string[]): ClassifiedClick {
  const field = streamEntryFields(entries);
  const text = (name: string) => field.get(name) ?? '';
  return {
    clickId: text('clickId'),
    linkCode: text('linkCode'),
    merchantId: text('merchantId'),
    noteId: text('noteId'),
    campaignId: text('campaignId') === '' ? null : text('campaignId'),
    at: Number(text('at')),
    route: text('route') as ClickRoute,
    visitorId: text('visitorId'),
    bot: text('bot') === '1',
    deviceType: text('deviceType'),
    platform: text('platform'),
    os: text('os'),
    osVersion: text('osVersion'),
    browser: text('browser'),
    browserVersion: text('browserVersion'),
    inApp: text('inApp'),
    userAgent: text('userAgent'),
    referrer: text('referrer'),
    acceptLanguage: text('acceptLanguage'),
    ipPrefix: text('ipPrefix'),
    kind: text('kind') as ClickKind,
  };
}
