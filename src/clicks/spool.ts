import type { ClickRecord } from '../domain/click.js';

/**
 * Durable overflow for clicks the store cannot take right now: a queue that outlives the process.
 * The click buffer appends to it when the store fails or memory fills, and drains it, oldest
 * first, before anything newer. Clicks are taken out only after the store has them, so a crash
 * between the two replays them, which the store makes harmless (a click id is written once).
 */
export interface ClickSpool {
  /** Adds clicks after everything already spooled; resolves once they would survive the process being killed. */
  append(clicks: readonly ClickRecord[]): Promise<void>;
  /** Up to `max` of the oldest spooled clicks, without taking them out. */
  peek(max: number): Promise<ClickRecord[]>;
  /** Takes out the first `count` clicks the last peek gave. */
  advance(count: number): Promise<void>;
  /** Clicks waiting, and the bytes they take. */
  readonly size: { clicks: number; bytes: number };
}

/** Guards against a spool line that is valid JSON but not a click (a hand-edited or foreign file). */
export function isClickRecord(value: unknown): value is ClickRecord {
  if (typeof value !== 'object' || value === null) return false;
  const click = value as Record<string, unknown>;
  return (
    typeof click.clickId === 'string' &&
    typeof click.linkCode === 'string' &&
    typeof click.merchantId === 'string' &&
    typeof click.noteId === 'string' &&
    (click.campaignId === null || typeof click.campaignId === 'string') &&
    typeof click.at === 'number' &&
    typeof click.userAgent === 'string' &&
    typeof click.referrer === 'string' &&
    typeof click.acceptLanguage === 'string' &&
    typeof click.ipPrefix === 'string' &&
    typeof click.route === 'string'
  );
}
