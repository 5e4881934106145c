import type { ClickRecord, StoredClick } from '../domain/click.js';
import type { ClickSink } from '../store/types.js';
import type { ClickSpool } from './spool.js';

export interface ClickBufferOptions {
  batchSize: number;
  /** Derives what the stores need (device, bot flag, visitor); done here, off the redirect's hot path. */
  enrich: (click: ClickRecord) => StoredClick;
  /** Past this many clicks in memory, new ones are dropped and counted rather than exhausting memory. */
  maxBuffered: number;
  /** Where clicks go when the store fails or memory holds `spoolAfter` of them; without one they wait in memory. */
  spool?: ClickSpool;
  spoolAfter?: number;
  onFlushError?: (error: unknown) => void;
  /** After each flush that wrote all it had to. */
  onFlushed?: () => void;
  onSpoolError?: (error: unknown) => void;
  /** After each move to the spool. */
  onSpooled?: () => void;
}

/**
 * Holds clicks between the redirect and the store, so a tap never waits on Redis. Clicks leave in
 * arrival order, in batches: first what is in the spool, then what is in memory. A batch the
 * store failed to take stays where it was and is retried, which the store makes safe (a click id
 * already written is skipped). When the store fails, the clicks in memory move to the spool, so a
 * killed process loses at most what arrived since the last flush tick, and less than a batch that
 * came while the flush before it ran.
 *
 * Flushes and moves to the spool run one at a time, so neither can reorder the other; within a flush,
 * two batches from memory are in flight, and the store writes the second only once the first has landed.
 */
export class ClickBuffer {
  private pending: ClickRecord[] = [];
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  private spillQueued = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private droppedCount = 0;
  private movingCount = 0;
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
    const { spool, spoolAfter } = this.options;
    if (spool !== undefined && spoolAfter !== undefined && this.pending.length >= spoolAfter && !this.spillQueued) {
      this.spillQueued = true;
      this.exclusive(async () => {
        this.spillQueued = false;
        await this.spill();
      }).catch(() => {});
    }
  }

  /** Clicks waiting in memory, counting those on their way to the spool until they are on disk. */
  get depth(): number {
    return this.pending.length + this.movingCount;
  }

  /** Clicks waiting in the spool, and the bytes they take on disk. */
  get spooled(): { clicks: number; bytes: number } {
    return this.options.spool?.size ?? { clicks: 0, bytes: 0 };
  }

  get dropped(): number {
    return this.droppedCount;
  }

  get written(): number {
    return this.writtenCount;
  }

  /** Flushes on a timer, skipping a tick while a flush still runs; the timer does not keep the process alive. */
  start(intervalMs: number): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      if (this.queued === 0) this.flush().catch(() => {});
    }, intervalMs);
    this.timer.unref?.();
  }

  /**
   * Writes everything waiting now, spool first. Calls run one after another, so batches never
   * reorder. On failure the clicks in memory move to the spool (if there is one) and it rejects.
   */
  flush(): Promise<void> {
    return this.exclusive(async () => {
      try {
        await this.drain();
        this.options.onFlushed?.();
      } catch (error) {
        this.options.onFlushError?.(error);
        await this.spill();
        throw error;
      }
    });
  }

  /**
   * Stops the timer and writes out every waiting click. If the store keeps failing until the
   * deadline, a buffer with a spool leaves its clicks there for the next start and resolves;
   * one without rejects, keeping them in memory.
   */
  async close(deadlineMs = 10_000): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const giveUpAt = Date.now() + deadlineMs;
    for (;;) {
      try {
        await this.flush();
        return;
      } catch (error) {
        if (Date.now() >= giveUpAt) {
          if (this.options.spool !== undefined && this.pending.length === 0) return;
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  private exclusive(step: () => Promise<void>): Promise<void> {
    this.queued++;
    const run = this.tail.then(step).finally(() => {
      this.queued--;
    });
    this.tail = run.catch(() => {});
    return run;
  }

  private async drain(): Promise<void> {
    const { spool, spoolAfter = Infinity, batchSize } = this.options;
    // The clicks in memory that were waiting when this flush began, at its front: they all go now.
    // Those that come meanwhile go along in full batches only, and the rest wait for the next flush:
    // chasing each last click sent Redis calls of 30 to 70 clicks under the bench's load (160 to 195
    // now), and its costs per call then took about a tenth more of its CPU per click.
    let due = this.pending.length;
    // Past this many clicks in memory they move to the spool before more are written. If the move
    // fails, memory is all there is, and the store takes them from there.
    let spillAt = spoolAfter;
    for (;;) {
      // A store slower than the taps keeps this loop going for good, and a move queued behind it
      // would never run: memory must not be where a lasting backlog waits.
      if (this.pending.length >= spillAt) {
        const moved = await this.spill();
        if (moved === 0) spillAt = Infinity;
        due = Math.max(0, due - moved);
      }
      if (spool !== undefined && spool.size.clicks > 0) {
        // Two batches a read, so the second is sent while the store writes the first.
        const peeked = await spool.peek(2 * batchSize);
        if (peeked.length === 0) {
          // Peeking stepped over unreadable lines; anything still counted must be readable.
          if (spool.size.clicks > 0) throw new Error('the click spool counts clicks it cannot read');
          continue;
        }
        let taken = 0;
        let landed = 0;
        try {
          await this.writeInOrder(
            () => {
              const batch = peeked.slice(taken, taken + batchSize);
              taken += batch.length;
              return batch;
            },
            (count) => (landed += count),
          );
        } finally {
          await spool.advance(landed);
          this.writtenCount += landed;
        }
      } else if (due > 0 || this.pending.length >= batchSize) {
        // Memory keeps filling meanwhile: batches are taken until what is left is not due and less
        // than a batch, or memory holds spillAt clicks.
        let taken = 0;
        await this.writeInOrder(
          () => {
            const batch = this.pending.length < spillAt ? this.pending.slice(taken, taken + batchSize) : [];
            if (batch.length < batchSize && taken >= due) return [];
            taken += batch.length;
            return batch;
          },
          (count) => {
            this.pending.splice(0, count);
            taken -= count;
            due = Math.max(0, due - count);
            this.writtenCount += count;
          },
        );
      } else {
        return;
      }
    }
  }

  /**
   * Writes the batches `next` gives (until an empty one) with two in flight: the store runs one
   * while the next is built and sent behind it (on one Redis connection, so in order), and neither
   * waits for the other. `landed` hears of each batch once it is written, in order. A batch sent
   * behind one that fails is not written either (the store checks the click before it), so a failed
   * batch and all after it stay where they were; one written anyway is skipped when retried.
   */
  private async writeInOrder(next: () => ClickRecord[], landed: (count: number) => void): Promise<void> {
    const { enrich } = this.options;
    type Write = { written: Promise<void>; count: number; last: string };
    const write = (batch: ClickRecord[], after: Write | null): Write => {
      const written = (async () => this.sink.writeClicks(batch.map(enrich), after?.last))();
      // Awaited only once the batch ahead has landed; a failure before then must not count as unhandled.
      written.catch(() => {});
      return { written, count: batch.length, last: batch[batch.length - 1]!.clickId };
    };
    let inFlight: Write | null = null;
    for (;;) {
      const batch = next();
      const sent: Write | null = batch.length > 0 ? write(batch, inFlight) : null;
      if (inFlight !== null) {
        try {
          await inFlight.written;
        } catch (error) {
          await sent?.written.catch(() => {});
          throw error;
        }
        landed(inFlight.count);
      }
      if (sent === null) return;
      inFlight = sent;
    }
  }

  /** Moves every click in memory to the end of the spool, and says how many; if the spool fails, they stay in memory, in order. */
  private async spill(): Promise<number> {
    const { spool } = this.options;
    if (spool === undefined || this.pending.length === 0) return 0;
    const moving = this.pending;
    this.pending = [];
    this.movingCount = moving.length;
    try {
      await spool.append(moving);
      this.options.onSpooled?.();
      return moving.length;
    } catch (error) {
      this.pending = moving.concat(this.pending);
      this.options.onSpoolError?.(error);
      return 0;
    } finally {
      this.movingCount = 0;
    }
  }
}
