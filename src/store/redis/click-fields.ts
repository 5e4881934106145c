import type { ClickKind, ClickRoute, StoredClick } from '../../domain/click.js';
import { dayBucket, hourBucket, minuteOf } from '../../domain/time-buckets.js';
import { groupsOf } from '../groups.js';
import type { ClassifiedClick, ClickOrigin, GroupType } from '../types.js';
import type { RedisKeys } from './keys.js';

/**
 * How clicks travel to the write script and how a click lies in the stream.
 *
 * A stream entry is flat field/value pairs: the script's `kind`, then the fields below. They are
 * sent to the script in parts, so that what many clicks share is sent once per batch:
 * - per merchant and hour: where its clicks go and count;
 * - per link: its origin fields, its click total and the head of its clicks' markers;
 * - per user agent: the raw header and what was derived from it (a campaign's visitors share a
 *   handful, and the header is most of a click's bytes);
 * - per click: its own keys and fields, naming its link and user agent by their place in the batch.
 * The script builds each stream entry, and the counter keys, from the parts (see scripts.ts).
 */
export const LINK_FIELDS = ['merchantId', 'linkCode', 'noteId', 'campaignId'] as const;
export const AGENT_FIELDS = ['userAgent', 'bot', 'deviceType', 'platform', 'os', 'osVersion', 'browser', 'browserVersion', 'inApp'] as const;
export const TAP_FIELDS = ['clickId', 'at', 'visitorId', 'route', 'referrer', 'acceptLanguage', 'ipPrefix'] as const;

/** The counter groups a click counts in, in groupsOf's order. */
export const GROUP_TYPES: readonly GroupType[] = groupsOf({ merchantId: '', linkCode: '', noteId: '', campaignId: '' }).map(([type]) => type);

/**
 * Argument layout of one batch (after the three policy arguments), indexes 0-based:
 *   merchant count, link count, agent count,
 *   per merchant: MERCHANT_ARGS (then one counter-groups key per GROUP_TYPES entry)
 *   per link:     LINK_ARGS
 *   per agent:    AGENT_FIELDS
 *   per click:    CLICK_ARGS, then TAP_FIELDS
 * A merchant here is a merchant within one hour: its counters' buckets come with it.
 */
export const MERCHANT_ARGS = ['merchantId', 'stream', 'countersOf', 'hourBucket', 'dayBucket'] as const;
export const MERCHANT_STRIDE = MERCHANT_ARGS.length + GROUP_TYPES.length;
export const LINK_ARGS = ['merchant', 'linkCode', 'noteId', 'campaignId', 'total', 'markerHead'] as const;
export const CLICK_ARGS = ['marker', 'seen', 'flood', 'link', 'agent'] as const;
export const CLICK_STRIDE = CLICK_ARGS.length + TAP_FIELDS.length;

/**
 * Joins a batch's arguments into the one the script splits. A control character: headers reach
 * the store cleaned to printable ASCII, ids are printable by their patterns, the marker head is JSON.
 */
export const CLICK_SEPARATOR = '\x1f';

/** The click marker's JSON up to its `at` value, which the script appends (with the closing brace). */
function markerHead(click: StoredClick): string {
  const origin: Omit<ClickOrigin, 'at'> = { merchantId: click.merchantId, linkCode: click.linkCode, noteId: click.noteId, campaignId: click.campaignId };
  const json = JSON.stringify(origin);
  return `${json.slice(0, -1)},"at":`;
}

/** A marker as the script writes it: the click's origin as JSON; the inverse is parseMarker. */
export function markerValue(click: StoredClick): string {
  return `${markerHead(click)}${click.at}}`;
}

export function parseMarker(value: string): ClickOrigin {
  const origin = JSON.parse(value) as ClickOrigin;
  // As in the stream, a campaign id of '' is no campaign.
  const campaignId = origin.campaignId === '' ? null : origin.campaignId;
  return { merchantId: origin.merchantId, linkCode: origin.linkCode, noteId: origin.noteId, campaignId, at: origin.at };
}

/** Markers written before the string layout were hashes of the same fields (campaignId '' for none). */
export function parseLegacyMarker(hash: Record<string, string>): ClickOrigin | null {
  if (hash.merchantId === undefined) return null;
  return {
    merchantId: hash.merchantId,
    linkCode: hash.linkCode ?? '',
    noteId: hash.noteId ?? '',
    campaignId: hash.campaignId === undefined || hash.campaignId === '' ? null : hash.campaignId,
    at: Number(hash.at),
  };
}

const HOUR_MS = 3_600_000;

/**
 * One batch of clicks as the script's argument: the layout above, joined by CLICK_SEPARATOR. A value
 * that holds the separator anyway (nothing the gateway lets through) has it replaced by '?', as the
 * gateway replaces other unprintable characters, rather than shifting every field after it.
 */
export function clickBatchArgs(clicks: readonly StoredClick[], keys: RedisKeys): string {
  const args = clickBatchParts(clicks, keys);
  for (const arg of args) {
    if (arg.includes(CLICK_SEPARATOR)) return args.map((part) => part.replaceAll(CLICK_SEPARATOR, '?')).join(CLICK_SEPARATOR);
  }
  return args.join(CLICK_SEPARATOR);
}

function clickBatchParts(clicks: readonly StoredClick[], keys: RedisKeys): string[] {
  const merchants = new Map<string, number>();
  const links = new Map<string, number>();
  const agents = new Map<string, number>();
  const merchantArgs: string[] = [];
  const linkArgs: string[] = [];
  const agentArgs: string[] = [];
  const clickArgs: string[] = [];
  for (const click of clicks) {
    const { merchantId, linkCode, noteId, at } = click;
    const merchantKey = `${merchantId}\n${Math.floor(at / HOUR_MS)}`;
    let merchant = merchants.get(merchantKey);
    if (merchant === undefined) {
      merchant = merchants.size;
      merchants.set(merchantKey, merchant);
      merchantArgs.push(merchantId, keys.clickStream(merchantId), keys.countersOf(merchantId), hourBucket(at), dayBucket(at));
      for (const type of GROUP_TYPES) merchantArgs.push(keys.counterGroups(merchantId, type));
    }
    const campaignId = click.campaignId ?? '';
    const linkKey = `${merchant}\n${linkCode}\n${noteId}\n${campaignId}`;
    let link = links.get(linkKey);
    if (link === undefined) {
      link = links.size;
      links.set(linkKey, link);
      linkArgs.push(String(merchant), linkCode, noteId, campaignId, keys.linkClicks(linkCode), markerHead(click));
    }
    const bot = click.bot ? '1' : '0';
    const agentKey = `${click.userAgent}\n${bot}\n${click.deviceType}\n${click.platform}\n${click.os}\n${click.osVersion}\n${click.browser}\n${click.browserVersion}\n${click.inApp}`;
    let agent = agents.get(agentKey);
    if (agent === undefined) {
      agent = agents.size;
      agents.set(agentKey, agent);
      agentArgs.push(click.userAgent, bot, click.deviceType, click.platform, click.os, click.osVersion, click.browser, click.browserVersion, click.inApp);
    }
    clickArgs.push(
      keys.click(click.clickId),
      keys.seen(linkCode, click.visitorId),
      keys.flood(linkCode, click.visitorId, minuteOf(at)),
      String(link),
      String(agent),
      click.clickId,
      String(at),
      click.visitorId,
      click.route,
      click.referrer,
      click.acceptLanguage,
      click.ipPrefix,
    );
  }
  const args = [String(merchants.size), String(links.size), String(agents.size)];
  for (const part of [merchantArgs, linkArgs, agentArgs, clickArgs]) for (const arg of part) args.push(arg);
  return args;
}

/** The inverse of the stream layout for one stream entry (which also carries the script's `kind`). */
export function clickFromFields(entries: readonly string[]): ClassifiedClick {
  const field = new Map<string, string>();
  for (let i = 0; i + 1 < entries.length; i += 2) field.set(entries[i] as string, entries[i + 1] as string);
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
