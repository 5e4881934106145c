import type { AllowedHosts } from '../domain/destination.js';
import { prepareForRedirect, type ResolvedLink } from '../domain/link.js';
import type { LinkStore, StatsStore } from './types.js';

interface Entry {
  value: ResolvedLink | null;
  freshUntil: number;
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
 */
export class LinkCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<ResolvedLink | null>>();

  constructor(
    private readonly store: LinkStore & Pick<StatsStore, 'clickCounts'>,
    private readonly options: LinkCacheOptions,
  ) {}

  /** The cached value when fresh, so a hit costs no promise; otherwise undefined. */
  peek(code: string): ResolvedLink | null | undefined {
    const entry = this.entries.get(code);
    if (entry === undefined || entry.freshUntil < this.options.now()) return undefined;
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
    const link = await this.store.getLink(code);
    // Only a capped link needs its count, and then it is read with the link: a tap never waits on it.
    const clicks = link?.maxClicks == null ? 0 : ((await this.store.clickCounts([code])).get(code) ?? 0);
    const value = link === null ? null : prepareForRedirect(link, this.options.allowedHosts, clicks);
    this.remember(code, value);
    return value;
  }

  invalidate(code: string): void {
    this.entries.delete(code);
  }

  private remember(code: string, value: ResolvedLink | null): void {
    if (this.options.ttlMs === 0) return;
    if (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(code, { value, freshUntil: this.options.now() + this.options.ttlMs });
  }
}
