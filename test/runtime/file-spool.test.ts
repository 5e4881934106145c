import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClickRecord } from '../../src/domain/click.js';
import { FileClickSpool } from '../../src/runtime/file-spool.js';
import { SpoolInUseError } from '../../src/runtime/spool-lock.js';

function click(n: number, fields: Partial<ClickRecord> = {}): ClickRecord {
  return {
    clickId: `click-${n}`,
    linkCode: 'code-a',
    merchantId: 'm1',
    noteId: 'note-1',
    campaignId: n % 2 === 0 ? null : 'spring',
    at: 1_740_787_205_000 + n,
    userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)',
    referrer: '',
    acceptLanguage: 'zh-CN',
    ipPrefix: '203.0.113.0/24',
    route: 'web',
    ...fields,
  };
}
const clicks = (from: number, count: number) => Array.from({ length: count }, (_, i) => click(from + i));
const ids = (records: readonly ClickRecord[]) => records.map((c) => c.clickId);

describe('the file click spool', () => {
  let dir: string;
  let path: string;
  const opened: FileClickSpool[] = [];
  const open = async (onUnreadable?: (line: string) => void) => {
    const spool = await FileClickSpool.open(path, onUnreadable);
    opened.push(spool);
    return spool;
  };
  /** What a process killed right now would leave: the file, without releasing the lock. */
  const abandon = (spool: FileClickSpool) => {
    opened.splice(opened.indexOf(spool), 1);
    rmSync(`${path}.lock`);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hanglink-spool-test-'));
    path = join(dir, 'nested', 'clicks.spool');
  });
  afterEach(async () => {
    for (const spool of opened.splice(0)) await spool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives back appended clicks oldest first, unchanged, and empties the file once all are taken', async () => {
    const spool = await open();
    await spool.append(clicks(0, 3));
    await spool.append(clicks(3, 2));
    expect(spool.size.clicks).toBe(5);
    expect(spool.size.bytes).toBe(readFileSync(path).length);

    const first = await spool.peek(4);
    expect(first).toEqual(clicks(0, 4));
    // Peeking takes nothing out.
    expect(await spool.peek(4)).toEqual(clicks(0, 4));
    await spool.advance(4);
    expect(spool.size.clicks).toBe(1);
    expect(await spool.peek(4)).toEqual([click(4)]);
    await spool.advance(1);

    expect(spool.size).toEqual({ clicks: 0, bytes: 0 });
    expect(readFileSync(path).length).toBe(0);
    expect(await spool.peek(10)).toEqual([]);
  });

  it('takes out only the clicks advanced past, so the rest are peeked again', async () => {
    const spool = await open();
    await spool.append(clicks(0, 6));
    await spool.peek(4);
    await spool.advance(2);
    expect(ids(await spool.peek(10))).toEqual(ids(clicks(2, 4)));
  });

  it('keeps clicks appended while others are being taken out, after them', async () => {
    const spool = await open();
    await spool.append(clicks(0, 3));
    await spool.peek(2);
    await spool.append(clicks(3, 2));
    await spool.advance(2);
    expect(ids(await spool.peek(10))).toEqual(ids(clicks(2, 3)));
  });

  it('reads batches across its read chunks, including clicks far larger than a chunk', async () => {
    const spool = await open();
    const big = click(1, { referrer: `https://example.com/${'r'.repeat(600_000)}` });
    const many = clicks(2, 2000);
    await spool.append([click(0), big, ...many]);
    const taken: ClickRecord[] = [];
    while (spool.size.clicks > 0) {
      const batch = await spool.peek(300);
      taken.push(...batch);
      await spool.advance(batch.length);
    }
    expect(taken).toEqual([click(0), big, ...many]);
  });

  it('replays what a killed process left, everything not yet taken out', async () => {
    const before = await open();
    await before.append(clicks(0, 5));
    await before.peek(2);
    await before.advance(2);
    abandon(before);

    const after = await open();
    // The read offset is not kept: taken-out clicks come back only when the file was not yet emptied.
    expect(after.size.clicks).toBe(5);
    expect(ids(await after.peek(10))).toEqual(ids(clicks(0, 5)));
  });

  it('cuts off a line torn by a kill mid-append and keeps every whole one', async () => {
    const before = await open();
    await before.append(clicks(0, 3));
    abandon(before);
    appendFileSync(path, JSON.stringify(click(3)).slice(0, 40));

    const after = await open();
    expect(after.size.clicks).toBe(3);
    expect(await after.peek(10)).toEqual(clicks(0, 3));
    await after.append([click(4)]);
    await after.advance(3);
    expect(await after.peek(10)).toEqual([click(4)]);
  });

  it('cuts back what a failed append left (a full disk), so later appends are read whole', () => {
    // A process whose files may not grow past 4 KiB stands for a full disk: the big append writes up
    // to the limit, then fails.
    const script = join(dir, 'full-disk.mjs');
    writeFileSync(
      script,
      `const { FileClickSpool } = await import(${JSON.stringify(new URL('../../src/runtime/file-spool.ts', import.meta.url).pathname)});
      const base = ${JSON.stringify(click(0))};
      const click = (n) => ({ ...base, clickId: 'click-' + n, userAgent: 'x'.repeat(200) });
      const spool = await FileClickSpool.open(${JSON.stringify(path)});
      await spool.append([0, 1, 2].map(click));
      const failed = await spool.append(Array.from({ length: 40 }, (_, i) => click(3 + i))).then(() => 'no error', (error) => error.code);
      await spool.append([click(43)]);
      console.log(JSON.stringify({ failed, counted: spool.size, peeked: (await spool.peek(100)).map((c) => c.clickId) }));`,
    );
    const output = execFileSync('prlimit', ['--fsize=4096', process.execPath, '--import', 'tsx', script], { encoding: 'utf8' });
    const { failed, counted, peeked } = JSON.parse(output) as { failed: string; counted: { clicks: number; bytes: number }; peeked: string[] };
    expect(failed).toBe('EFBIG');
    expect(peeked).toEqual(['click-0', 'click-1', 'click-2', 'click-43']);
    expect(counted.clicks).toBe(4);
    expect(statSync(path).size).toBe(counted.bytes);
  });

  it('says so and goes on when the file was cut short under it, so the counted clicks never block the spool', async () => {
    const unreadable: string[] = [];
    const spool = await open((line) => unreadable.push(line));
    await spool.append(clicks(0, 3));
    writeFileSync(path, '');
    expect(await spool.peek(10)).toEqual([]);
    expect(unreadable).toEqual(['3 clicks counted past the end of the file']);
    expect(spool.skipped).toBe(3);
    expect(spool.size).toEqual({ clicks: 0, bytes: 0 });
    await spool.append([click(3)]);
    expect(await spool.peek(10)).toEqual([click(3)]);
  });

  it('steps over lines that are not clicks, says so, and never stalls on them', async () => {
    const first = await open();
    abandon(first);
    writeFileSync(
      path,
      ['not json', JSON.stringify(click(0)), '{"clickId": 7}', '[]', JSON.stringify(click(1)), 'tail garbage', ''].join('\n'),
    );
    const unreadable: string[] = [];
    const spool = await open((line) => unreadable.push(line));
    expect(spool.size.clicks).toBe(6);

    const taken: ClickRecord[] = [];
    for (let round = 0; round < 10 && spool.size.clicks > 0; round++) {
      const batch = await spool.peek(10);
      taken.push(...batch);
      await spool.advance(batch.length);
    }
    expect(taken).toEqual([click(0), click(1)]);
    expect(unreadable).toEqual(['not json', '{"clickId": 7}', '[]', 'tail garbage']);
    expect(spool.skipped).toBe(4);
    expect(spool.size.clicks).toBe(0);
  });

  it('refuses a spool another live process holds, and takes over one whose holder is gone', async () => {
    const mine = await open();
    await mine.append(clicks(0, 1));
    // This process holds it; a lock naming another live process on this host (the parent here) is refused.
    writeFileSync(`${path}.lock`, `${process.ppid} ${hostname()} parents-token`);
    await expect(FileClickSpool.open(path)).rejects.toBeInstanceOf(SpoolInUseError);
    await expect(FileClickSpool.open(path)).rejects.toThrow(`in use by process ${process.ppid}`);

    // A pid no process has: the holder died without releasing it.
    writeFileSync(`${path}.lock`, `2147483646 ${hostname()} dead-token`);
    const next = await open();
    expect(next.size.clicks).toBe(1);
    expect(readFileSync(`${path}.lock`, 'utf8')).toMatch(new RegExp(`^${process.pid} ${hostname()} \\S+\n$`));
  });

  it('releases its lock on close and leaves what is left for the next process', async () => {
    const spool = await open();
    await spool.append(clicks(0, 2));
    opened.splice(opened.indexOf(spool), 1);
    await spool.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
    expect((await open()).size.clicks).toBe(2);
  });
});
