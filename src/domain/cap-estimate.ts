import { minuteOf } from './time-buckets.js';

/**
 * A process's own count of each visitor's taps on capped links in the current minute, so that its
 * estimate of a link's billable clicks between reloads leaves out the taps the store will judge
 * suspect (past the flood limit). Counting them, one visitor tapping a capped link over and over
 * closed it to every shopper until the next reload, and could keep it closed.
 *
 * Only the minute's visitors are held, and at most `maxVisitors` of them: past that, a new visitor's
 * taps all count, as before, rather than let a flood of visitors grow the map.
 */
export class CapEstimate {
  #minute = -1;
  readonly #taps = new Map<string, number>();

  constructor(
    private readonly floodLimitPerMinute: number,
    private readonly maxVisitors = 100_000,
  ) {}

  /** Notes a visitor's tap on a capped link, and says whether it counts towards the cap (not past the flood limit). */
  countsTowardsCap(linkCode: string, ipPrefix: string, userAgent: string, nowMs: number): boolean {
    const minute = minuteOf(nowMs);
    if (minute !== this.#minute) {
      this.#minute = minute;
      this.#taps.clear();
    }
    const visitor = `${linkCode}\n${ipPrefix}\n${userAgent}`;
    const taps = (this.#taps.get(visitor) ?? 0) + 1;
    if (taps > 1 || this.#taps.size < this.maxVisitors) this.#taps.set(visitor, taps);
    return taps <= this.floodLimitPerMinute;
  }
}
