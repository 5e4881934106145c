import type { Merchant } from '../domain/merchant.js';

/** What middleware hands to route handlers. */
export interface AppEnv {
  Variables: {
    merchant: Merchant;
  };
}
