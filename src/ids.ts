import { customAlphabet, nanoid } from 'nanoid';

/** Every id the gateway mints; injected so tests can pin them. */
export interface Ids {
  linkCode(): string;
  clickId(): string;
  merchantId(): string;
  apiKey(): string;
}

// Codes are what shoppers see in short URLs: letters and digits only, 62^8 ≈ 2·10^14 of them.
const linkCode = customAlphabet('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 8);

export const randomIds: Ids = {
  linkCode,
  clickId: () => nanoid(21),
  merchantId: () => `mer_${linkCode()}${linkCode()}`,
  apiKey: () => `hlk_${nanoid(40)}`,
};
