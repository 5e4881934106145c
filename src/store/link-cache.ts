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
  ttlMs: number;
  maxEntries: number;
  allowedHosts: AllowedHosts;
  now: () => number;
}

/**
 * Bounded in-process cache in front of the link store, for the redirect path. Entries (misses
 * too, so unknown codes cannot hammer the store) live for `ttlMs`: a change made through another
 * process is seen within that time; a change made here is seen at once through `invalidate`.
 * A link in use is reloaded in the background during the second half of its lifetime, so its
 * taps never wait on the store.
 */
export class LinkCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<ResolvedLink | null>>();
  // Bumped by invalidate, so a load that started before a change cannot put the old link back.
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly store: LinkStore & Pick<StatsStore, 'clickCounts'>,
    private readonly options: LinkCacheOptions,
  ) {}

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
    if (this.generations.get(code) === generation) this.remember(code, value);
    return value;
  }

  invalidate(code: string): void {
    this.entries.delete(code);
    this.generations.set(code, (this.generations.get(code) ?? 0) + 1);
    if (this.generations.size > this.options.maxEntries) this.generations.clear();
  }

  private remember(code: string, value: ResolvedLink | null): void {
    if (this.options.ttlMs === 0) return;
    if (!this.entries.has(code) && this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    const now = this.options.now();
    this.entries.set(code, { value, refreshAfter: now + this.options.ttlMs / 2, expiresAt: now + this.options.ttlMs });
  }
}
