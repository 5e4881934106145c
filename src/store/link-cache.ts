import type { AllowedHosts } from '../domain/destination.js';
import { prepareForRedirect, type ResolvedLink } from '../domain/link.js';
import type { LinkStore, StatsStore } from './types.js';

interface Entry {
  value: ResolvedLink | null;
  /** Past this, a tap still gets the entry but starts a reload in the background. */
  refreshAfter: number;
  /** Past this, the entry is not used: a tap waits for the store. */
  expiresAt: number;
}

export interface LinkCacheOptions {
  /** How long an entry lives while changes made elsewhere are not pushed (see `changesPushed`). */
  ttlMs: number;
  /** How long it lives while they are: a safety net for a lost message, not what keeps links fresh. */
  pushedTtlMs?: number;
  maxEntries: number;
  allowedHosts: AllowedHosts;
  now: () => number;
}

const DEFAULT_PUSHED_TTL_MS = 60_000;

/**
 * Bounded in-process cache in front of the link store, for the redirect path. Entries (misses
 * too, so unknown codes cannot hammer the store) live for `ttlMs`: a change made through another
 * process is seen within that time; a change made here is seen at once through `invalidate`.
 * A link in use is reloaded in the background during the second half of its lifetime, so its
 * taps never wait on the store.
 *
 * When the store pushes every link change to this process (`changesPushed(true)`, Redis client
 * tracking), a change is seen as soon as its message arrives, and entries live `pushedTtlMs`:
 * links tapped less than once a second stay cached too. A capped link keeps `ttlMs`: its count
 * of clicks comes from every process, and is only read with the link.
 */
export class LinkCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<ResolvedLink | null>>();
  // Bumped by invalidate, so a load that started before a change cannot put the old link back.
  private readonly generations = new Map<string, number>();
  // The same for every code at once (invalidateAll).
  private epoch = 0;
  private pushed = false;

  constructor(
    private readonly store: LinkStore & Pick<StatsStore, 'clickCounts'>,
    private readonly options: LinkCacheOptions,
  ) {}

  /**
   * Whether the store now pushes every link change to this process. Either way a cached link may
   * have changed unseen meanwhile: each is still served (Redis may be away: links keep working),
   * reloaded on its next tap in the background, and lives `ttlMs` at most until then; no load
   * already running may put back what it read.
   */
  changesPushed(pushed: boolean): void {
    this.pushed = pushed;
    this.epoch++;
    const now = this.options.now();
    for (const entry of this.entries.values()) {
      entry.refreshAfter = -Infinity;
      entry.expiresAt = Math.min(entry.expiresAt, now + this.options.ttlMs);
    }
  }

  /** The cached value while it is usable, so a hit costs no promise; otherwise undefined. */
  peek(code: string): ResolvedLink | null | undefined {
    const entry = this.entries.get(code);
    if (entry === undefined) return undefined;
    const now = this.options.now();
    if (entry.expiresAt < now) return undefined;
    if (entry.refreshAfter < now && !this.loading.has(code)) this.get(code).catch(() => {});
    return entry.value;
  }

  get(code: string): Promise<ResolvedLink | null> {
    const running = this.loading.get(code);
    if (running !== undefined) return running;
    const load = this.load(code).finally(() => this.loading.delete(code));
    this.loading.set(code, load);
    return load;
  }

  private async load(code: string): Promise<ResolvedLink | null> {
    const generation = this.generations.get(code);
    const epoch = this.epoch;
    let value: ResolvedLink | null;
    try {
      const link = await this.store.getLink(code);
      // Only a capped link needs its count, and then it is read with the link: a tap never waits on it.
      const clicks = link?.maxClicks == null ? 0 : ((await this.store.clickCounts([code])).get(code) ?? 0);
      value = link === null ? null : prepareForRedirect(link, this.options.allowedHosts, clicks);
    } catch (error) {
      // The store cannot be reached: a link this process knew keeps redirecting as it was, and is
      // tried again after half a lifetime, rather than failing shoppers for the outage.
      const known = this.entries.get(code);
      if (known === undefined) throw error;
      const now = this.options.now();
      known.refreshAfter = now + this.options.ttlMs / 2;
      known.expiresAt = now + this.options.ttlMs;
      return known.value;
    }
    if (this.generations.get(code) === generation && this.epoch === epoch) this.remember(code, value);
    return value;
  }

  invalidate(code: string): void {
    this.entries.delete(code);
    this.generations.set(code, (this.generations.get(code) ?? 0) + 1);
    if (this.generations.size > this.options.maxEntries) {
      // Forgetting generations could let a load in flight put back what it read before the change.
      this.generations.clear();
      this.epoch++;
    }
  }

  invalidateAll(): void {
    this.entries.clear();
    this.generations.clear();
    this.epoch++;
  }

  private remember(code: string, value: ResolvedLink | null): void {
    if (this.options.ttlMs === 0) return;
    if (!this.entries.has(code) && this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    const now = this.options.now();
    const ttlMs = this.pushed && value?.link.maxClicks == null ? (this.options.pushedTtlMs ?? DEFAULT_PUSHED_TTL_MS) : this.options.ttlMs;
    this.entries.set(code, { value, refreshAfter: now + ttlMs / 2, expiresAt: now + ttlMs });
  }
}
