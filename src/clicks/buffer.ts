import type { ClickRecord, StoredClick } from '../domain/click.js';
import type { ClickSink } from '../store/types.js';

export interface ClickBufferOptions {
  batchSize: number;
  /** Derives what the stores need (device, bot flag, visitor); done here, off the redirect's hot path. */
  enrich: (click: ClickRecord) => StoredClick;
  /** Past this many waiting clicks, new ones are dropped and counted rather than exhausting memory. */
  maxBuffered: number;
  onFlushError?: (error: unknown) => void;
}

/**
 * Holds clicks between the redirect and the store, so a tap never waits on Redis. Clicks leave
 * in arrival order, in batches; a failed batch stays at the head and is retried, which the sink
 * makes safe (a click id already written is skipped).
 */
export class ClickBuffer {
  private pending: ClickRecord[] = [];
  private inFlight: Promise<void> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private droppedCount = 0;
  private writtenCount = 0;

  constructor(
    private readonly sink: ClickSink,
    private readonly options: ClickBufferOptions,
  ) {}

  push(click: ClickRecord): void {
    if (this.pending.length >= this.options.maxBuffered) {
      this.droppedCount++;
      return;
    }
    this.pending.push(click);
  }

  get depth(): number {
    return this.pending.length;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  get written(): number {
    return this.writtenCount;
  }

  /** Flushes on a timer; the timer does not keep the process alive. */
  start(intervalMs: number): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      this.flush().catch(() => {});
    }, intervalMs);
    this.timer.unref?.();
  }

  /** Writes everything waiting now. Concurrent calls share one flush, so batches never reorder. */
  flush(): Promise<void> {
    if (this.inFlight !== null) return this.inFlight.then(() => this.flush());
    if (this.pending.length === 0) return Promise.resolve();
    this.inFlight = this.drain().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, this.options.batchSize);
      try {
        await this.sink.writeClicks(batch.map(this.options.enrich));
      } catch (error) {
        this.options.onFlushError?.(error);
        throw error;
      }
      this.pending.splice(0, batch.length);
      this.writtenCount += batch.length;
    }
  }

  /** Stops the timer and writes out every buffered click; rejects if the sink keeps failing. */
  async close(deadlineMs = 10_000): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const giveUpAt = Date.now() + deadlineMs;
    for (;;) {
      try {
        await this.flush();
        return;
      } catch (error) {
        if (Date.now() >= giveUpAt) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}
