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
 * own pid namespace): in containers sharing a volume every gateway may be pid 1, under one host name
 * too. So a lock is taken over at once only from another pid on this host that is gone; any other
 * (another host, or this pid: a container restarted in place, or a twin) once nobody has touched it
 * for `staleAfterMs`, which start-up waits out.
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
    const giveUpAt = Date.now() + timing.staleAfterMs + timing.keepFreshMs;
    for (;;) {
      try {
        await writeFile(path, `${me.pid} ${me.host} ${me.token}\n`, { flag: 'wx' });
        return new SpoolLock(path, me, timing);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const found = await readFile(path, 'utf8').catch(() => null);
      const touched = await stat(path).then((s) => s.mtimeMs, () => null);
      // Gone meanwhile: its holder released it, or another process moved it aside.
      if (found === null || touched === null) continue;
      // Unreadable as a lock (one being written this instant, say): judged by its age alone.
      const held = parseHolder(found, me.host);
      const onThisHost = held !== null && held.host === me.host && held.pid !== me.pid;
      if ((onThisHost && !processAlive(held.pid)) || Date.now() - touched >= timing.staleAfterMs) {
        await SpoolLock.moveAside(path, found, me.token);
        continue;
      }
      if (onThisHost || Date.now() >= giveUpAt) {
        const where = onThisHost || held === null ? '' : ` on ${held.host}`;
        throw new SpoolInUseError(
          `click spool ${spoolPath} is in use by process ${held?.pid ?? '(unknown)'}${where}: give each gateway process its own HANGLINK_CLICK_SPOOL`,
        );
      }
      await sleep(Math.min(250, timing.keepFreshMs));
    }
  }

  /**
   * Takes a lock whose holder is gone out of the way, for a fresh one to be created in its place. Moved,
   * not overwritten: of two processes doing this at once only one moves it; should the file moved be
   * another than the one judged (a fresh lock made meanwhile), it is put back.
   */
  private static async moveAside(path: string, judged: string, token: string): Promise<void> {
    const aside = `${path}.${token}`;
    if (!(await rename(path, aside).then(() => true, () => false))) return;
    if ((await readFile(aside, 'utf8').catch(() => judged)) === judged) await rm(aside, { force: true });
    else await rename(aside, path);
  }

  /** Stops keeping the lock fresh and removes it, unless another process has taken it over since. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    const held = parseHolder(await readFile(this.path, 'utf8').catch(() => ''), this.me.host);
    if (held?.token === this.me.token) await rm(this.path, { force: true });
  }
}
