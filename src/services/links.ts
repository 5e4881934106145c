import { HanglinkError, notFound } from '../domain/errors.js';
import { applyPatch, buildLink, type Link, type LinkPatch, type LinkRules, type NewLinkInput } from '../domain/link.js';
import type { Merchant } from '../domain/merchant.js';
import type { Ids } from '../ids.js';
import type { LinkStore } from '../store/types.js';

export interface LinkServiceDeps {
  store: LinkStore;
  rules: LinkRules;
  ids: Pick<Ids, 'linkCode'>;
  now: () => number;
  /** Called after a link changes, so this process's redirect cache forgets it at once. */
  onChange: (code: string) => void;
}

export interface Minted {
  link: Link;
  /** false: the merchant already had a link with this externalId, and that link is returned. */
  created: boolean;
}

// A random 8-character code collides with odds of about 1 in 10^8 at a million links; three draws
// make a failure practically impossible while still bounding the work.
const CODE_ATTEMPTS = 3;

export async function mintLink(deps: LinkServiceDeps, merchant: Merchant, input: NewLinkInput): Promise<Minted> {
  const now = new Date(deps.now());
  for (let attempt = 0; attempt < CODE_ATTEMPTS; attempt++) {
    const link = buildLink(input, deps.ids.linkCode(), merchant, deps.rules, now);
    const result = await deps.store.createLink(link);
    if (result.created) return { link: result.link, created: true };
    if (result.reason === 'external-id-exists') return { link: result.link, created: false };
    if (input.slug !== undefined) {
      throw new HanglinkError('conflict', 'slug-taken', 'Slug taken', `The slug "${input.slug}" is already in use.`, { field: 'slug' });
    }
  }
  throw new HanglinkError('unavailable', 'code-space-busy', 'Try again', 'No free link code was found; retry the request.');
}

/** The merchant's own link; another merchant's answers exactly like one that does not exist. */
export async function ownLink(store: LinkStore, merchant: Merchant, code: string): Promise<Link> {
  const link = await store.getLink(code);
  if (link === null || link.merchantId !== merchant.id) throw notFound('link');
  return link;
}

// A change lost to another one made at the same moment is made again on the link as it now is. Each
// retry waits a random moment, growing, so that changes racing each other fall out of step: without
// it, 6 to 8 changes at once could each keep losing, 5 times over.
const SAVE_ATTEMPTS = 10;
const retryPause = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * 2 ** Math.min(attempt, 6)));

/**
 * Reads the merchant's link, derives the new one and saves it only if nobody changed the link in
 * between; otherwise starts over. `change` returns null when there is nothing to save.
 */
async function changeLink(deps: LinkServiceDeps, merchant: Merchant, code: string, change: (link: Link) => Link | null): Promise<Link> {
  for (let attempt = 0; attempt < SAVE_ATTEMPTS; attempt++) {
    const current = await ownLink(deps.store, merchant, code);
    const changed = change(current);
    if (changed === null) return current;
    if (await deps.store.saveLink(changed, current)) {
      deps.onChange(code);
      return changed;
    }
    if (attempt < SAVE_ATTEMPTS - 1) await retryPause(attempt);
  }
  throw new HanglinkError('conflict', 'link-busy', 'Link busy', `Link "${code}" kept changing while this change was made; retry the request.`);
}

export function updateLink(deps: LinkServiceDeps, merchant: Merchant, code: string, patch: LinkPatch): Promise<Link> {
  return changeLink(deps, merchant, code, (link) => applyPatch(link, patch, deps.rules, new Date(deps.now())));
}

export async function deleteLink(deps: LinkServiceDeps, merchant: Merchant, code: string): Promise<void> {
  await changeLink(deps, merchant, code, (link) =>
    link.status === 'deleted' ? null : { ...link, status: 'deleted', updatedAt: new Date(deps.now()).toISOString() },
  );
}
