import type { ClickKind, ClickRoute, StoredClick } from '../../domain/click.js';
import type { ClassifiedClick } from '../types.js';

/**
 * How a click is laid out in Redis: flat field/value entries for XADD and HSET. The marker fields
 * come first because the write script keeps exactly that leading run in the click marker, which
 * is what an order later needs to find its click; the rest only goes to the stream.
 */
export function clickFields(click: StoredClick): { entries: string[]; markerEntries: number } {
  const marker = [
    'merchantId', click.merchantId,
    'linkCode', click.linkCode,
    'noteId', click.noteId,
    'campaignId', click.campaignId ?? '',
    'at', String(click.at),
    'visitorId', click.visitorId,
  ];
  const details = [
    'clickId', click.clickId,
    'route', click.route,
    'bot', click.bot ? '1' : '0',
    'deviceType', click.deviceType,
    'platform', click.platform,
    'os', click.os,
    'osVersion', click.osVersion,
    'browser', click.browser,
    'browserVersion', click.browserVersion,
    'inApp', click.inApp,
    'userAgent', click.userAgent,
    'referrer', click.referrer,
    'acceptLanguage', click.acceptLanguage,
    'ipPrefix', click.ipPrefix,
  ];
  return { entries: [...marker, ...details], markerEntries: marker.length };
}

/** The inverse of `clickFields` for one stream entry (which also carries the script's `kind`). */
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
