import { type FileHandle, mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ClickRecord } from '../domain/click.js';
import { type ClickSpool, isClickRecord } from '../clicks/spool.js';
import { SPOOL_LOCK_TIMING, SpoolLock, type SpoolLockTiming } from './spool-lock.js';

const NEWLINE = 0x0a;
// Enough for a batch of typical clicks (~400 bytes each) in one read.
const READ_CHUNK = 256 * 1024;

function parseClick(line: string): ClickRecord | null {
  try {
    const value: unknown = JSON.parse(line);
    return isClickRecord(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * The spool as an append-only file of JSON lines. Appends are synced to disk, so a kill (or a
 * power cut) after an append returns loses none of it; the part already written to the store is
 * skipped by a read offset and the file is emptied once everything in it is written. On open, a
 * torn last line (the process died mid-append) is cut off, and what remains is replayed.
 */
export class FileClickSpool implements ClickSpool {
  private readOffset = 0;
  private fileBytes: number;
  private lines: number;
  /** End offset in the file of each click the last peek gave. */
  private peekedEnds: number[] = [];
  private unreadable = 0;
  /** Bytes past fileBytes left by a failed append, not yet cut off. */
  private strayBytes = false;

  private constructor(
    private readonly lock: SpoolLock,
    private readonly file: FileHandle,
    contents: { bytes: number; lines: number },
    private readonly onUnreadable: (line: string) => void,
  ) {
    this.fileBytes = contents.bytes;
    this.lines = contents.lines;
  }

  static async open(path: string, onUnreadable: (line: string) => void = () => {}, lockTiming: SpoolLockTiming = SPOOL_LOCK_TIMING): Promise<FileClickSpool> {
    await mkdir(dirname(path), { recursive: true });
    const lock = await SpoolLock.claim(path, lockTiming);
    const file = await open(path, 'a+');
    const existing = await readFile(path);
    const complete = existing.lastIndexOf(NEWLINE) + 1;
    if (complete < existing.length) await file.truncate(complete);
    let lines = 0;
    for (let at = existing.indexOf(NEWLINE); at !== -1 && at < complete; at = existing.indexOf(NEWLINE, at + 1)) lines++;
    return new FileClickSpool(lock, file, { bytes: complete, lines }, onUnreadable);
  }

  get size() {
    return { clicks: this.lines, bytes: this.fileBytes - this.readOffset };
  }

  /** Lines that were not clicks and were skipped; say so, never stop on them. */
  get skipped(): number {
    return this.unreadable;
  }

  async append(clicks: readonly ClickRecord[]): Promise<void> {
    if (clicks.length === 0) return;
    let text = '';
    for (const click of clicks) text += `${JSON.stringify(click)}\n`;
    const bytes = Buffer.from(text);
    // A failed append (a full disk) may leave part of it in the file: cut back to what is counted
    // before writing more, or the next lines land after bytes no offset knows of, torn and unread.
    if (this.strayBytes) await this.cutStrayBytes();
    try {
      await this.file.appendFile(bytes);
      await this.file.datasync();
    } catch (error) {
      this.strayBytes = true;
      await this.cutStrayBytes().catch(() => {});
      throw error;
    }
    this.fileBytes += bytes.length;
    this.lines += clicks.length;
  }

  async peek(max: number): Promise<ClickRecord[]> {
    const clicks: ClickRecord[] = [];
    this.peekedEnds = [];
    let position = this.readOffset;
    let chunkSize = READ_CHUNK;
    reading: while (clicks.length < max && position < this.fileBytes) {
      const length = Math.min(chunkSize, this.fileBytes - position);
      const chunk = Buffer.alloc(length);
      const { bytesRead } = await this.file.read(chunk, 0, length, position);
      let start = 0;
      let end = chunk.subarray(0, bytesRead).indexOf(NEWLINE);
      if (end === -1) {
        // Every append ends its lines, so this is a line longer than the chunk: read a bigger one.
        if (length === this.fileBytes - position) break;
        chunkSize *= 2;
        continue;
      }
      while (end !== -1 && clicks.length < max) {
        const line = chunk.toString('utf8', start, end);
        const lineEnd = position + end + 1;
        const click = parseClick(line);
        if (click !== null) {
          clicks.push(click);
          this.peekedEnds.push(lineEnd);
        } else if (clicks.length === 0) {
          // Nothing peeked yet: step over it for good, so a bad line can never block the spool.
          this.readOffset = lineEnd;
          this.lines--;
          this.unreadable++;
          this.onUnreadable(line.slice(0, 200));
        } else {
          // Left for the next peek, where it leads and is stepped over.
          break reading;
        }
        start = end + 1;
        end = chunk.subarray(0, bytesRead).indexOf(NEWLINE, start);
      }
      position += start;
    }
    if (clicks.length === 0 && this.lines > 0) {
      // Counted, but the file ends before them (cut short by something else): they cannot be read, and
      // must not hold up the clicks behind them, in memory, for good.
      this.onUnreadable(`${this.lines} clicks counted past the end of the file`);
      this.unreadable += this.lines;
      this.lines = 0;
    }
    if (this.lines === 0) await this.reset();
    return clicks;
  }

  async advance(count: number): Promise<void> {
    if (count <= 0) return;
    const end = this.peekedEnds[Math.min(count, this.peekedEnds.length) - 1];
    if (end === undefined) return;
    this.readOffset = end;
    this.lines -= Math.min(count, this.peekedEnds.length);
    this.peekedEnds = [];
    if (this.lines === 0) await this.reset();
  }

  /** Releases the file and the lock; what is left is replayed by the next process to open it. */
  async close(): Promise<void> {
    await this.file.close();
    await this.lock.release();
  }

  private async cutStrayBytes(): Promise<void> {
    await this.file.truncate(this.fileBytes);
    this.strayBytes = false;
  }

  private async reset(): Promise<void> {
    await this.file.truncate(0);
    this.readOffset = 0;
    this.fileBytes = 0;
    this.peekedEnds = [];
  }
}
