import type { Log } from './store.js';

// Long enough that an outage of minutes leaves a few lines, short enough to show it is still going.
const REPEAT_EVERY_MS = 10_000;

export interface FailureLines {
  /** Begins the line for each failure, before its error's message. */
  failed: string;
  /** Begins the line when it works again. */
  recovered: string;
}

/**
 * Logs a failure that comes back on every retry without a line per retry: while Redis is away, a
 * click flush fails on every tick, twenty times a second. The first failure is logged at once, then
 * one line at most per REPEAT_EVERY_MS while it goes on, and the first success after them, each
 * saying how long it has failed and how often.
 */
export class RepeatedFailureLog {
  private failingSince: number | null = null;
  private failures = 0;
  private loggedAt = 0;

  constructor(
    private readonly log: Log,
    private readonly lines: FailureLines,
    private readonly now: () => number = Date.now,
  ) {}

  failed(error: unknown): void {
    const at = this.now();
    const message = error instanceof Error ? error.message : String(error);
    this.failures++;
    if (this.failingSince === null) {
      this.failingSince = at;
      this.loggedAt = at;
      this.log(`${this.lines.failed}: ${message}`);
      return;
    }
    if (at - this.loggedAt < REPEAT_EVERY_MS) return;
    this.log(`${this.lines.failed}: ${message} (still failing after ${seconds(at - this.failingSince)}: ${this.failures} times)`);
    this.loggedAt = at;
  }

  succeeded(): void {
    if (this.failingSince === null) return;
    this.log(`${this.lines.recovered}, after ${this.failures} failures in ${seconds(this.now() - this.failingSince)}`);
    this.failingSince = null;
    this.failures = 0;
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
