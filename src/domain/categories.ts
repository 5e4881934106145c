import { HanglinkError, invalid } from './errors.js';

/**
 * Which categories merchants may link to. It is data (config/categories.json by default) so that
 * opening a category to more merchants is a config change, not a release.
 */
export interface CategoryPolicy {
  /** Open to every merchant. */
  open: readonly string[];
  /** Open only to merchants the operator approved for that category. */
  whitelist: readonly string[];
}

const CATEGORY_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Validates a policy document; throws a message naming what is wrong. */
export function parseCategoryPolicy(doc: unknown): CategoryPolicy {
  if (typeof doc !== 'object' || doc === null) throw new Error('category policy must be a JSON object');
  const { open, whitelist } = doc as Record<string, unknown>;
  const list = (name: string, value: unknown): string[] => {
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && CATEGORY_NAME.test(v))) {
      throw new Error(`category policy "${name}" must be an array of lowercase category names`);
    }
    return value as string[];
  };
  const policy = { open: list('open', open), whitelist: list('whitelist', whitelist ?? []) };
  const both = policy.open.filter((c) => policy.whitelist.includes(c));
  if (both.length > 0) throw new Error(`category policy lists ${both.join(', ')} as both open and whitelist`);
  return policy;
}

export function isKnownCategory(policy: CategoryPolicy, category: string): boolean {
  return policy.open.includes(category) || policy.whitelist.includes(category);
}

export function checkCategory(policy: CategoryPolicy, category: string, approved: readonly string[]): void {
  if (policy.open.includes(category)) return;
  if (policy.whitelist.includes(category)) {
    if (approved.includes(category)) return;
    throw new HanglinkError(
      'forbidden',
      'category-not-approved',
      'Category needs approval',
      `Category "${category}" is whitelist-only and this merchant is not approved for it; ask the operator for approval.`,
      { field: 'category', category },
    );
  }
  throw invalid(
    'category-not-open',
    `Category "${category}" is not open. Open categories: ${policy.open.join(', ')}; by approval: ${policy.whitelist.join(', ')}.`,
    { field: 'category', category },
  );
}

/** Checks an operator's approval list: only whitelist categories can be approved. */
export function checkApprovals(policy: CategoryPolicy, categories: readonly string[]): string[] {
  const wrong = categories.filter((c) => !policy.whitelist.includes(c));
  if (wrong.length > 0) {
    throw invalid('category-not-whitelisted', `Only whitelist categories need approval; not whitelist: ${wrong.join(', ')}.`, {
      field: 'categories',
    });
  }
  return [...new Set(categories)].sort();
}
