import type { Link } from '../../src/domain/link.js';

/** A live link as a store holds it, for tests that write links to a store directly. */
export function storedLink(code: string, fields: Partial<Link> = {}): Link {
  return {
    code,
    merchantId: 'mer_stored',
    url: 'https://item.taobao.com/item.htm?id=1',
    noteId: 'note-1',
    campaignId: null,
    category: 'beauty',
    externalId: null,
    expiresAt: null,
    appUrl: null,
    ios: null,
    android: null,
    desktop: null,
    maxClicks: null,
    status: 'active',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...fields,
  };
}
