import { invalid } from '../domain/errors.js';
import { CODE_PATTERN, type Link } from '../domain/link.js';

/**
 * Listing order shared by both stores. A link's index member is its creation time in ms,
 * zero-padded so that byte order is time order, then its code to break ties; walking members in
 * reverse byte order therefore yields newest first, and a member is a stable paging position.
 */
const TIME_DIGITS = 15;

export function listingMember(link: Link): string {
  return `${String(Date.parse(link.createdAt)).padStart(TIME_DIGITS, '0')}:${link.code}`;
}

export function codeOfMember(member: string): string {
  return member.slice(TIME_DIGITS + 1);
}

function isMember(value: string): boolean {
  return /^\d{15}:/.test(value) && CODE_PATTERN.test(codeOfMember(value));
}

function encodeCursor(member: string): string {
  return Buffer.from(member, 'utf8').toString('base64url');
}

// Cursors come back from clients, so anything that is not exactly what we issued is refused.
function decodeCursor(cursor: string): string {
  const member = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!isMember(member) || encodeCursor(member) !== cursor) {
    throw invalid('invalid-cursor', 'cursor is not one this API returned.', { field: 'cursor' });
  }
  return member;
}

export interface ListingIndex {
  /** Up to `count` members ordered newest first, starting just after `after` (from the newest when null). */
  membersAfter(after: string | null, count: number): Promise<string[]>;
}

/** Narrows a batch of members to those in a second index (for note + campaign listings). */
export type MemberFilter = (members: string[]) => Promise<string[]>;

// When filtering, most of a batch may be thrown away, so read in larger steps than the page.
const FILTERED_BATCH = 100;

/**
 * One page of members and the cursor after it. Reads one member past the page so that
 * `nextCursor` is null exactly when nothing follows.
 */
export async function pageOfMembers(
  index: ListingIndex,
  filter: MemberFilter | null,
  limit: number,
  cursor: string | null,
): Promise<{ members: string[]; nextCursor: string | null }> {
  if (!Number.isInteger(limit) || limit < 1) {
    throw invalid('invalid-limit', 'limit must be a positive integer.', { field: 'limit' });
  }
  const wanted = limit + 1;
  const found: string[] = [];
  let position = cursor === null ? null : decodeCursor(cursor);
  while (found.length < wanted) {
    const count = filter === null ? wanted - found.length : Math.max(wanted, FILTERED_BATCH);
    const batch = await index.membersAfter(position, count);
    found.push(...(filter === null ? batch : await filter(batch)));
    const last = batch.at(-1);
    if (batch.length < count || last === undefined) break;
    position = last;
  }
  const members = found.slice(0, limit);
  const last = members.at(-1);
  return { members, nextCursor: found.length > limit && last !== undefined ? encodeCursor(last) : null };
}

/**
 * Drops what a concurrent delete may have left between reading an index and reading the links,
 * so a listing never shows a deleted or vanished link.
 */
export function liveLinks(links: readonly (Link | null)[]): Link[] {
  return links.filter((link): link is Link => link !== null && link.status !== 'deleted');
}
