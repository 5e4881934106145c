import type { ClickRecord } from '../domain/click.js';
import type { GroupType } from './types.js';

/** Every group a click counts in; a link without a campaign counts under campaign '' ("none"). */
export function groupsOf(click: Pick<ClickRecord, 'merchantId' | 'linkCode' | 'noteId' | 'campaignId'>): [GroupType, string][] {
  return [
    ['merchant', click.merchantId],
    ['campaign', click.campaignId ?? ''],
    ['note', click.noteId],
    ['link', click.linkCode],
  ];
}
