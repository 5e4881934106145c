import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';

export class SpoolInUseError extends Error {}

export interface SpoolLockTiming {
  /** How often the holder touches its lock. */
  keepFreshMs: number;
  /** A lock untouched this long is left by a process that is gone, wherever it ran. */
  staleAfterMs: number;
}

export const SPOOL_LOCK_TIMING: SpoolLockTiming = { keepFreshMs: 1000, staleAfterMs: 5000 };

interface Holder {
  pid: number;
  host: string;
  token: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock's holder; a lock of earlier versions names only a pid, of a process on this host. */
function parseHolder(text: string, thisHost: string): Holder | null {
  const [pid, host = thisHost, token = ''] = text.trim().split(' ');
  return pid !== undefined && /^[1-9]\d*$/.test(pid) ? { pid: Number(pid), host, token } : null;
}

/**
 * Claims a spool for one process: two appending to one file would interleave their clicks and each
 * replay the other's. The lock names its holder's pid and host, and the holder touches it every
 * `keepFreshMs`. Whether a holder is alive can be asked of the system only on its own host (in its
 * own pid namespace): in containers sharing a volume every gateway may be pid 1. So a lock is taken
 * over at once only from a dead process on this host, or from an earlier life of this very process
 * (a restarted container: same host, same pid); from anywhere else once nobody has touched it for
 * `staleAfterMs`, which start-up waits out.
 */
export class SpoolLock {
  private readonly timer: ReturnType<typeof setInterval>;

  private constructor(
    private readonly path: string,
    private readonly me: Holder,
    timing: SpoolLockTiming,
  ) {
    this.timer = setInterval(() => {
      const now = new Date();
      utimes(path, now, now).catch(() => {});
    }, timing.keepFreshMs);
    this.timer.unref?.();
  }

  static async claim(spoolPath: string, timing: SpoolLockTiming = SPOOL_LOCK_TIMING): Promise<SpoolLock> {
    const path = `${spoolPath}.lock`;
    const me: Holder = { pid: process.pid, host: hostname(), token: randomBytes(9).toString('base64url') };
    const text = `${me.pid} ${me.host} ${me.token}\n`;
    try {
      await writeFile(path, text, { flag: 'wx' });
      return new SpoolLock(path, me, timing);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const giveUpAt = Date.now() + timing.staleAfterMs + timing.keepFreshMs;
    for (;;) {
      const held = await readFile(path, 'utf8').then((lock) => parseHolder(lock, me.host), () => null);
      const touched = await stat(path).then((s) => s.mtimeMs, () => 0);
      const sameHost = held !== null && held.host === me.host;
      const takeOver =
        held === null ||
        (sameHost && (held.pid === me.pid || !processAlive(held.pid))) ||
        Date.now() - touched >= timing.staleAfterMs;
      if (takeOver) break;
      if (sameHost || Date.now() >= giveUpAt) {
        const where = sameHost ? '' : ` on ${held.host}`;
        throw new SpoolInUseError(`click spool ${spoolPath} is in use by process ${held.pid}${where}: give each gateway process its own HANGLINK_CLICK_SPOOL`);
      }
      await sleep(Math.min(250, timing.keepFreshMs));
    }
    // Replaced whole (a rename is atomic), then read back: of two processes taking over at once, the
    // one whose lock was replaced by the other's steps back.
    const mine = `${path}.${me.token}`;
    await writeFile(mine, text);
    await rename(mine, path);
    await sleep(50);
    if (parseHolder(await readFile(path, 'utf8').catch(() => ''), me.host)?.token !== me.token) {
      throw new SpoolInUseError(`click spool ${spoolPath} was claimed by another process starting at the same time: give each gateway process its own HANGLINK_CLICK_SPOOL`);
    }
    return new SpoolLock(path, me, timing);
  }

  /** Stops keeping the lock fresh and removes it, unless another process has taken it over since. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    const held = parseHolder(await readFile(this.path, 'utf8').catch(() => ''), this.me.host);
    if (held?.token === this.me.token) await rm(this.path, { force: true });
  }
}
