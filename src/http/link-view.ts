import type { z } from '@hono/zod-openapi';
import { type Link, withDefaults } from '../domain/link.js';
import type { Link as LinkSchema } from './schemas.js';

export type LinkView = z.infer<typeof LinkSchema>;

/** A link as the merchant API shows it. */
export function linkView(stored: Link, clicks: number, publicUrl: string): LinkView {
  const link = withDefaults(stored);
  return {
    code: link.code,
    shortUrl: `${publicUrl}/${link.code}`,
    url: link.url,
    noteId: link.noteId,
    campaignId: link.campaignId,
    category: link.category,
    externalId: link.externalId,
    expiresAt: link.expiresAt,
    appUrl: link.appUrl,
    ios: link.ios,
    android: link.android,
    desktop: link.desktop,
    maxClicks: link.maxClicks,
    status: link.status,
    createdAt: link.createdAt,
    updatedAt: link.updatedAt,
    clicks,
  };
}
