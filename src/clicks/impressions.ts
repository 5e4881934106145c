import type { AttributionStore, CounterIncrement } from '../store/types.js';

type Origin = CounterIncrement['origin'];

export interface ImpressionCounterOptions {
  onFlushError?: (error: unknown) => void;
  /** After each flush that wrote counts. */
  onFlushed?: () => void;
}

const HOUR_MS = 3_600_000;

/**
 * Impressions are only ever counted, never listed, so they are summed in memory per link and
 * hour and written as one increment each per flush: a busy note page costs Redis one HINCRBY a
 * flush, not one per view.
 */
export class ImpressionCounter {
  private pending = new Map<string, CounterIncrement>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Pick<AttributionStore, 'addCounters'>,
    private readonly options: ImpressionCounterOptions = {},
  ) {}

  record(origin: Origin, at: number): void {
    const hourStart = Math.floor(at / HOUR_MS) * HOUR_MS;
    const key = `${origin.linkCode}\n${hourStart}`;
    const increment = this.pending.get(key);
    if (increment === undefined) this.pending.set(key, { origin, at: hourStart, counter: 'impressions', by: 1 });
    else increment.by++;
  }

  start(intervalMs: number): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      this.flush().catch(() => {});
    }, intervalMs);
    this.timer.unref?.();
  }

  /** Writes what was counted; on failure the counts are put back to be written with the next flush. */
  flush(): Promise<void> {
    this.inFlight = this.inFlight.catch(() => {}).then(async () => {
      if (this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      try {
        await this.store.addCounters([...batch.values()]);
      } catch (error) {
        for (const [key, increment] of batch) {
          const newer = this.pending.get(key);
          if (newer === undefined) this.pending.set(key, increment);
          else newer.by += increment.by;
        }
        this.options.onFlushError?.(error);
        throw error;
      }
      this.options.onFlushed?.();
    });
    return this.inFlight;
  }

  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
