export interface Merchant {
  id: string;
  name: string;
  /** Whitelist-only categories the operator has approved this merchant for. */
  approvedCategories: string[];
  createdAt: string;
}
