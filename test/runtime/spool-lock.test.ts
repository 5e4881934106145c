import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SpoolInUseError, SpoolLock, type SpoolLockTiming } from '../../src/runtime/spool-lock.js';

// The deployed timing scaled down tenfold, so waits take half a second rather than five.
const TIMING: SpoolLockTiming = { keepFreshMs: 100, staleAfterMs: 500 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the spool lock', () => {
  let dir: string;
  let spool: string;
  let lockFile: string;
  const held: SpoolLock[] = [];
  const claim = async () => {
    const lock = await SpoolLock.claim(spool, TIMING);
    held.push(lock);
    return lock;
  };
  const holderIs = (pid: number, host = hostname()) => expect(readFileSync(lockFile, 'utf8')).toMatch(new RegExp(`^${pid} ${host} \\S+\\n$`));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hanglink-lock-test-'));
    spool = join(dir, 'clicks.spool');
    lockFile = `${spool}.lock`;
  });
  afterEach(async () => {
    for (const lock of held.splice(0)) await lock.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('claims a free spool, naming this process and host, and removes the lock on release', async () => {
    const lock = await claim();
    holderIs(process.pid);
    held.splice(held.indexOf(lock), 1);
    await lock.release();
    expect(existsSync(lockFile)).toBe(false);
  });

  it('refuses a spool another live process on this host holds, naming it', async () => {
    writeFileSync(lockFile, `${process.ppid} ${hostname()} parents-token\n`);
    await expect(claim()).rejects.toThrow(new SpoolInUseError(`click spool ${spool} is in use by process ${process.ppid}: give each gateway process its own HANGLINK_CLICK_SPOOL`));
    expect(readFileSync(lockFile, 'utf8')).toContain('parents-token');
  });

  it('takes over at once from another process on this host that is gone', async () => {
    writeFileSync(lockFile, `2147483646 ${hostname()} old-token\n`);
    const startedAt = Date.now();
    await claim();
    expect(Date.now() - startedAt).toBeLessThan(TIMING.staleAfterMs);
    holderIs(process.pid);
  });

  it('takes a lock naming this very pid and host (a container restarted in place, or a twin) only once it is stale', async () => {
    writeFileSync(lockFile, `${process.pid} ${hostname()} twin-token\n`);
    const keepFresh = setInterval(() => utimesSync(lockFile, new Date(), new Date()), TIMING.keepFreshMs);
    try {
      await expect(claim()).rejects.toBeInstanceOf(SpoolInUseError);
    } finally {
      clearInterval(keepFresh);
    }
    const startedAt = Date.now();
    await claim();
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(TIMING.staleAfterMs - 2 * TIMING.keepFreshMs);
    holderIs(process.pid);
  });

  it('does not take a lock it cannot read (one being written this instant) while it is fresh', async () => {
    writeFileSync(lockFile, '');
    const keepFresh = setInterval(() => utimesSync(lockFile, new Date(), new Date()), TIMING.keepFreshMs);
    try {
      await expect(claim()).rejects.toBeInstanceOf(SpoolInUseError);
    } finally {
      clearInterval(keepFresh);
    }
    expect(readFileSync(lockFile, 'utf8')).toBe('');
  });

  it('refuses a lock another host keeps fresh, even one naming this pid, as every container’s gateway may be pid 1', async () => {
    writeFileSync(lockFile, `${process.pid} other-container its-token\n`);
    const keepFresh = setInterval(() => utimesSync(lockFile, new Date(), new Date()), TIMING.keepFreshMs);
    try {
      await expect(claim()).rejects.toThrow(`in use by process ${process.pid} on other-container`);
    } finally {
      clearInterval(keepFresh);
    }
    expect(readFileSync(lockFile, 'utf8')).toContain('its-token');
  });

  it('takes over from another host once nobody keeps the lock fresh, waiting for that if need be', async () => {
    writeFileSync(lockFile, `1 other-container its-token\n`);
    const old = new Date(Date.now() - 2 * TIMING.staleAfterMs);
    utimesSync(lockFile, old, old);
    await claim();
    holderIs(process.pid);

    // Fresh when found, then left alone: the holder crashed a moment ago.
    for (const lock of held.splice(0)) await lock.release();
    writeFileSync(lockFile, `1 other-container crashed-token\n`);
    const startedAt = Date.now();
    await claim();
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(TIMING.staleAfterMs - 100);
    holderIs(process.pid);
  });

  it('keeps its own lock fresh while it holds it', async () => {
    await claim();
    const old = new Date(Date.now() - 10 * TIMING.staleAfterMs);
    utimesSync(lockFile, old, old);
    await sleep(3 * TIMING.keepFreshMs);
    expect(Date.now() - statSync(lockFile).mtimeMs).toBeLessThan(2 * TIMING.keepFreshMs);
  });

  it('reads the lock of earlier versions (a bare pid) as a process on this host', async () => {
    writeFileSync(lockFile, String(process.ppid));
    await expect(claim()).rejects.toThrow(`in use by process ${process.ppid}`);
    writeFileSync(lockFile, '2147483646');
    await claim();
    holderIs(process.pid);
  });

  it('of two claims taking over at once, exactly one holds the spool', async () => {
    writeFileSync(lockFile, `2147483646 ${hostname()} dead-token\n`);
    const results = await Promise.allSettled([SpoolLock.claim(spool, TIMING), SpoolLock.claim(spool, TIMING)]);
    const won = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    held.push(...won);
    expect(won).toHaveLength(1);
    expect(results.find((result) => result.status === 'rejected')).toMatchObject({ reason: expect.any(SpoolInUseError) });
  });

  it('leaves a lock another process has taken over since when it releases', async () => {
    const lock = await claim();
    held.splice(held.indexOf(lock), 1);
    writeFileSync(lockFile, `${process.ppid} ${hostname()} newer-token\n`);
    await lock.release();
    expect(readFileSync(lockFile, 'utf8')).toContain('newer-token');
  });
});
