import { hash, timingSafeEqual } from 'node:crypto';

/** API keys are random and long, so a fast hash is enough; only the hash is ever stored. */
export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/** Compares two secrets in time independent of where they differ, and of their lengths. */
export function secretsEqual(given: string, expected: string): boolean {
  const a = hash('sha256', given, 'buffer');
  const b = hash('sha256', expected, 'buffer');
  return timingSafeEqual(a, b);
}
