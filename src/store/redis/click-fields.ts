import type { ClickRecord } from '../../domain/click.js';

/**
 * How a click is laid out in Redis: flat field/value pairs for XADD and HSET. The marker fields
 * come first because the write script keeps exactly that leading run in the click marker, which
 * is what an order later needs to find its click; the rest (headers, IP prefix) only goes to
 * the stream.
 */
export function clickFields(click: ClickRecord): { pairs: string[]; markerArgs: number } {
  const marker = [
    'merchantId', click.merchantId,
    'linkCode', click.linkCode,
    'noteId', click.noteId,
    'campaignId', click.campaignId ?? '',
    'at', String(click.at),
  ];
  const details = [
    'clickId', click.clickId,
    'userAgent', click.userAgent,
    'referrer', click.referrer,
    'acceptLanguage', click.acceptLanguage,
    'ipPrefix', click.ipPrefix,
  ];
  return { pairs: [...marker, ...details], markerArgs: marker.length };
}

/** The inverse of `clickFields` for one stream entry's field/value list. */
export function clickFromFields(pairs: readonly string[]): ClickRecord {
  const field = new Map<string, string>();
  for (let i = 0; i + 1 < pairs.length; i += 2) field.set(pairs[i] as string, pairs[i + 1] as string);
  const text = (name: string) => field.get(name) ?? '';
  return {
    clickId: text('clickId'),
    linkCode: text('linkCode'),
    merchantId: text('merchantId'),
    noteId: text('noteId'),
    campaignId: text('campaignId') === '' ? null : text('campaignId'),
    at: Number(text('at')),
    userAgent: text('userAgent'),
    referrer: text('referrer'),
    acceptLanguage: text('acceptLanguage'),
    ipPrefix: text('ipPrefix'),
  };
}
