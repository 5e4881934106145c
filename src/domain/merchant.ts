export interface Merchant {
  id: string;
  name: string;
  /** Whitelist-only categories the operator has approved this merchant for. */
  approvedCategories: string[];
  /** ISO 4217; orders and spend are taken in this currency only. */
  currency: string;
  createdAt: string;
}

export const DEFAULT_CURRENCY = 'CNY';

/** Merchants stored before a field existed read it with its default. */
export function merchantWithDefaults(merchant: Merchant): Merchant {
  const stored: Partial<Merchant> = merchant;
  return { ...merchant, currency: stored.currency ?? DEFAULT_CURRENCY };
}
