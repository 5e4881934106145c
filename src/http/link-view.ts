import type { z } from '@hono/zod-openapi';
import type { Link } from '../domain/link.js';
import type { Link as LinkSchema } from './schemas.js';

export type LinkView = z.infer<typeof LinkSchema>;

/** A link as the merchant API shows it. */
export function linkView(link: Link, clicks: number, publicUrl: string): LinkView {
  return {
    code: link.code,
    shortUrl: `${publicUrl}/${link.code}`,
    url: link.url,
    noteId: link.noteId,
    campaignId: link.campaignId,
    category: link.category,
    externalId: link.externalId,
    expiresAt: link.expiresAt,
    status: link.status,
    createdAt: link.createdAt,
    updatedAt: link.updatedAt,
    clicks,
  };
}
