import { describe, expect, it } from 'vitest';
import { RepeatedFailureLog } from '../../src/runtime/failure-log.js';

const LINES = { failed: 'hanglink: click flush failed, will retry', recovered: 'hanglink: clicks are written to the store again' };

function failureLog() {
  const lines: string[] = [];
  let now = 1_000_000;
  const log = new RepeatedFailureLog((line) => lines.push(line), LINES, () => now);
  return { log, lines, advance: (ms: number) => (now += ms) };
}

describe('RepeatedFailureLog', () => {
  it('logs the first failure at once, with its message', () => {
    const { log, lines } = failureLog();
    log.failed(new Error('Connection is closed.'));
    expect(lines).toEqual(['hanglink: click flush failed, will retry: Connection is closed.']);
  });

  it('logs nothing more for failures within ten seconds of the last line', () => {
    const { log, lines, advance } = failureLog();
    log.failed(new Error('down'));
    for (let tick = 0; tick < 199; tick++) {
      advance(50);
      log.failed(new Error('down'));
    }
    expect(lines).toHaveLength(1);
  });

  it('logs one line per ten seconds while failures go on, saying for how long and how often', () => {
    const { log, lines, advance } = failureLog();
    log.failed(new Error('down'));
    for (let tick = 0; tick < 400; tick++) {
      advance(50);
      log.failed(new Error('still down'));
    }
    expect(lines).toEqual([
      'hanglink: click flush failed, will retry: down',
      'hanglink: click flush failed, will retry: still down (still failing after 10.0 s: 201 times)',
      'hanglink: click flush failed, will retry: still down (still failing after 20.0 s: 401 times)',
    ]);
  });

  it('logs the first success after failures, with how many there were and for how long', () => {
    const { log, lines, advance } = failureLog();
    log.failed(new Error('down'));
    advance(2_500);
    log.failed(new Error('down'));
    advance(500);
    log.succeeded();
    log.succeeded();
    expect(lines.slice(1)).toEqual(['hanglink: clicks are written to the store again, after 2 failures in 3.0 s']);
  });

  it('logs nothing for successes without failures before them', () => {
    const { log, lines } = failureLog();
    log.succeeded();
    expect(lines).toEqual([]);
  });

  it('logs a failure after a recovery at once, counted afresh', () => {
    const { log, lines, advance } = failureLog();
    log.failed(new Error('down'));
    log.succeeded();
    advance(100);
    log.failed('gone again');
    advance(12_000);
    log.failed('gone again');
    expect(lines.slice(2)).toEqual([
      'hanglink: click flush failed, will retry: gone again',
      'hanglink: click flush failed, will retry: gone again (still failing after 12.0 s: 2 times)',
    ]);
  });
});
